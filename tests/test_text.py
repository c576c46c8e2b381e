"""Normalisation, folding, tokens, spelling tolerance and language guess."""

from __future__ import annotations

import pytest

from veiviser.errors import EmptyMessage, MessageTooLong
from veiviser.nlu.analysis import Analyser
from veiviser.text import calm_case, clean_message, fold, normalize, stem, tokenize
from veiviser.text.language import guess_language
from veiviser.text.spelling import SpellingCorrector


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        pytest.param("\u212bpen", "åpen", id="angstrom-sign"),
        pytest.param("A\u030apen", "åpen", id="combining-ring"),
        pytest.param("ÅPEN", "åpen", id="upper-case"),
        pytest.param("åpen", "åpen", id="composed"),
        pytest.param(
            "Hva koster det???", "hva koster det?", id="repeated-question-marks"
        ),
        pytest.param("hei!!!  du", "hei! du", id="repeated-bang-and-spaces"),
        pytest.param("ﬁnne", "finne", id="ligature"),
    ],
)
def test_normalize_gives_one_form(variant: str, expected: str) -> None:
    assert normalize(variant) == expected


@pytest.mark.parametrize(
    ("letters", "ascii_spelling"),
    [
        ("lønn", "loenn"),
        ("lønn", "lonn"),
        ("får", "faar"),
        ("får", "far"),
        ("særavtale", "saeravtale"),
        ("særavtale", "saravtale"),
    ],
)
def test_ascii_spellings_fold_to_the_same_token(
    letters: str, ascii_spelling: str
) -> None:
    assert fold(letters) == fold(ascii_spelling)


@pytest.mark.parametrize(
    "blank",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="spaces"),
        pytest.param("\u00a0\u00a0", id="non-breaking"),
        pytest.param("\u200b\u200d\ufeff", id="zero-width"),
        pytest.param("\t\n \u3000", id="mixed-whitespace"),
        pytest.param("\x00\x1b", id="control-only"),
    ],
)
def test_clean_message_rejects_blank_input(blank: str) -> None:
    with pytest.raises(EmptyMessage):
        clean_message(blank)


def test_clean_message_strips_control_characters_and_keeps_text() -> None:
    assert clean_message("hei\x00 på\x1b[31m deg\u202e") == "hei på[31m deg"


def test_clean_message_names_the_limit() -> None:
    with pytest.raises(MessageTooLong) as caught:
        clean_message("a" * 2001)
    assert "2000" in caught.value.message
    assert caught.value.details["limit"] == 2000


def test_emoji_only_message_is_valid_and_has_tokens() -> None:
    text = clean_message("👍👍")
    assert tokenize(normalize(text)) == ["👍", "👍"]


def test_stem_joins_inflections() -> None:
    assert stem("forbundet") == stem("forbund")
    assert stem("feriepengene") == stem("feriepenger")


def test_spelling_corrector_fixes_one_and_two_letter_typos() -> None:
    corrector = SpellingCorrector(["kontingenten", "medlemskap", "faktura"])
    assert corrector.correct("kontingnten") == "kontingenten"  # one letter, long word
    assert corrector.correct("kontigentne") == "kontingenten"  # two edits, long word
    assert corrector.correct("fakutra") == "faktura"  # swapped letters count once
    assert corrector.correct("medlmeskap") == "medlemskap"
    assert corrector.correct("fktra") == "fktra"  # two edits is too many for short


def test_a_real_word_the_phrases_lack_is_not_corrected() -> None:
    corrector = SpellingCorrector(["ferie", "lønn", "been", "from", "seat"] * 10)
    # One edit from a known word, but words of Norwegian or English.
    assert corrector.correct("serie") == "serie"
    assert corrector.correct("bees") == "bees"
    assert corrector.correct("frog") == "frog"
    assert corrector.correct("sweat") == "sweat"
    # A typo is not a word and is still corrected.
    assert corrector.correct("fereie") == "ferie"


def test_a_rare_known_word_is_not_turned_into_a_common_neighbour() -> None:
    corrector = SpellingCorrector(["been"] * 30 + ["bees"])
    assert corrector.correct("bees") == "bees"


def test_a_rare_typo_in_the_phrases_is_read_as_the_common_word() -> None:
    corrector = SpellingCorrector(["kontingent"] * 20 + ["kontigent", "ferien"])
    assert corrector.correct("kontigent") == "kontingent"
    # A rare word with no far more common neighbour stays itself.
    assert corrector.correct("ferien") == "ferien"


def test_a_rare_word_is_kept_when_its_neighbour_is_not_much_more_common() -> None:
    corrector = SpellingCorrector(["kontingent"] * 5 + ["kontigent"])
    assert corrector.correct("kontigent") == "kontigent"


def test_spelling_corrector_leaves_short_and_unknown_words() -> None:
    corrector = SpellingCorrector(["kontingenten"])
    assert corrector.correct("pizza") == "pizza"
    assert corrector.correct("abc") == "abc"
    assert corrector.correct("2026") == "2026"


def test_spelling_corrector_matches_ascii_spelling_without_cost() -> None:
    corrector = SpellingCorrector(["lønnsforhandling"])
    assert corrector.correct("loennsforhandling") == fold("lønnsforhandling")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Korleis melder eg meg ut?", "nn"),
        ("Hvordan melder jeg meg ut?", "nb"),
        ("How do I cancel my membership?", "en"),
        ("🍕🍕", "und"),
    ],
)
def test_language_guess(text: str, language: str) -> None:
    assert guess_language(text) == language


@pytest.mark.parametrize(
    ("typed", "calm"),
    [
        ("HVA KOSTER MEDLEMSKAP", "hva koster medlemskap"),
        ("JEG VIL MELDE MEG UT!", "jeg vil melde meg ut!"),
        ("SYKEPENGER", "sykepenger"),
        ("Hva Koster Medlemskap", "hva koster medlemskap"),
        ("HVA gir NAV meg NÅ", "hva gir nav meg nå"),
    ],
)
def test_capitals_and_title_case_are_calmed(typed: str, calm: str) -> None:
    assert calm_case(typed) == calm


@pytest.mark.parametrize(
    "text",
    [
        "Hva gir NAV meg når jeg er permittert?",
        "Jeg jobber i Oslo Kommune",
        "Hei",
        "Ola Nordmann",
        "AFP og pensjon",
        "1234 5678",
    ],
)
def test_ordinary_case_is_left_as_written(text: str) -> None:
    assert calm_case(text) == text


def test_the_encoder_sees_a_shouted_question_as_the_quiet_one() -> None:
    analyser = Analyser(["hva koster medlemskap", "hvordan melder jeg meg ut"])
    shouted = analyser.analyse("HVA KOSTER MEDLEMSKAP?")
    quiet = analyser.analyse("hva koster medlemskap?")
    assert shouted == quiet
