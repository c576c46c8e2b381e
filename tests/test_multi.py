"""Two questions in one message, and joined words that are one question."""

from __future__ import annotations

import pytest

from veiviser.nlu.multi import split_questions


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param(
            "Hva koster det, og får jeg rabatt på forsikring?",
            ["Hva koster det", "får jeg rabatt på forsikring?"],
            id="comma-og-question",
        ),
        pytest.param(
            "Hvordan melder jeg meg inn? Hvor mye er kontingenten?",
            ["Hvordan melder jeg meg inn?", "Hvor mye er kontingenten?"],
            id="two-question-marks",
        ),
        pytest.param(
            "hvor mye ferie har jeg og hvordan søker jeg stipend",
            ["hvor mye ferie har jeg", "hvordan søker jeg stipend"],
            id="og-without-punctuation",
        ),
        pytest.param(
            "Hva koster kontingenten og kan jeg trekke den fra på skatten?",
            ["Hva koster kontingenten", "kan jeg trekke den fra på skatten?"],
            id="long-second-part-with-its-own-subject",
        ),
        pytest.param(
            "what does it cost and can I pay by invoice",
            ["what does it cost", "can I pay by invoice"],
            id="english-and",
        ),
        pytest.param(
            "hva koster kontingenten og dekker forsikringen tannlege",
            ["hva koster kontingenten", "dekker forsikringen tannlege"],
            id="verb-then-definite-noun-subject",
        ),
    ],
)
def test_two_questions_are_split(text: str, parts: list[str]) -> None:
    assert split_questions(text) == parts


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("ferie og feriepenger", id="topic-pair"),
        pytest.param("sykdom og sykepenger", id="topic-pair-2"),
        pytest.param("Mobbing og trakassering på jobben", id="noun-pair"),
        pytest.param("Jeg er syk. Hva gjør jeg?", id="context-then-question"),
        pytest.param(
            "Jeg har begynt i ny jobb og lurer på medlemskapet", id="statement-og"
        ),
        pytest.param(
            "Kan jeg ta ut ferie og få feriepenger samtidig?",
            id="og-inside-verb-phrase",
        ),
        pytest.param("hei?", id="one-word"),
        pytest.param(
            "Hva er feriepenger og når får jeg dem?", id="follow-up-points-back"
        ),
        pytest.param("Hva er en tariffavtale? Hvem har den?", id="follow-up-sentence"),
        pytest.param("what is holiday pay and when do I get it", id="english-it"),
        pytest.param(
            "er medlem hos dere og har blitt syk, hva har jeg krav på",
            id="statements-without-subject-then-question",
        ),
        pytest.param(
            "er permittert og lurer på hva jeg får", id="statement-without-subject"
        ),
    ],
)
def test_one_question_stays_whole(text: str) -> None:
    assert split_questions(text) == [text]
