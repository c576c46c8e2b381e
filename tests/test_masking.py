"""Masking of personal data: ID numbers, accounts, phones and e-mail addresses.

The ID and account numbers below are generated with their check digits computed
here, from the published weights, and cross-checked with python-stdnum, so the
test data is demonstrably valid rather than copied from somewhere.
"""

from __future__ import annotations

import random
from dataclasses import FrozenInstanceError
from datetime import date

import pytest
from stdnum.no import fodselsnummer, kontonr

from veiviser.text.masking import (
    TOKENS,
    MaskResult,
    PersonalData,
    mask_personal_data,
)

FNR = PersonalData.FODSELSNUMMER
KONTO = PersonalData.KONTONUMMER
TELEFON = PersonalData.TELEFONNUMMER
EMAIL = PersonalData.EMAIL
NUMMER = PersonalData.NUMMER

# Weights for the fødselsnummer's first check digit.
ID_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
# The fødselsnummer's second check digit and the account number's check digit
# use these same weights, which is why every valid fødselsnummer also passes as
# an account number.
MOD11_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def check_digit(digits: str, weights: tuple[int, ...]) -> str | None:
    """Return the mod-11 check digit, or None when the remainder allows none."""
    total = sum(
        int(digit) * weight for digit, weight in zip(digits, weights, strict=True)
    )
    check = (11 - total % 11) % 11
    return None if check == 10 else str(check)


def make_fodselsnummer(born: date, *, day_add: int = 0, month_add: int = 0) -> str:
    """Return a valid fødselsnummer for ``born``.

    Adding 40 to the day gives a D-nummer, adding 40 to the month an H-nummer.
    """
    # Individual numbers 000-499 mean the 1900s, 500-999 the 2000s.
    first_individual = (0 if born.year < 2000 else 500) + born.day * 10
    birth = f"{born.day + day_add:02d}{born.month + month_add:02d}{born.year % 100:02d}"
    for individual in range(first_individual, first_individual + 100):
        base = f"{birth}{individual:03d}"
        first = check_digit(base, ID_WEIGHTS)
        second = first and check_digit(base + first, MOD11_WEIGHTS)
        if first and second:
            return base + first + second
    raise AssertionError(f"no valid individual number for {born}")


def make_kontonummer(bank: str, serial: int) -> str:
    """Return a valid account number at ``bank`` near ``serial``."""
    for account in range(serial, serial + 100):
        base = f"{bank}{account:06d}"
        check = check_digit(base, MOD11_WEIGHTS)
        if check:
            return base + check
    raise AssertionError(f"no valid account number at {bank} near {serial}")


def with_wrong_check_digit(number: str) -> str:
    # The last digit is the one mod-11 check both kinds share, so a number
    # with a changed last digit fails as fødselsnummer and as account number.
    return number[:-1] + str((int(number[-1]) + 1) % 10)


BIRTH_DATES = (
    date(1958, 3, 14),
    date(1967, 11, 2),
    date(1975, 6, 30),
    date(1983, 1, 9),
    date(1999, 12, 31),
    date(2004, 8, 21),
)
FODSELSNUMRE = [make_fodselsnummer(born) for born in BIRTH_DATES]
D_NUMRE = [make_fodselsnummer(born, day_add=40) for born in BIRTH_DATES]
H_NUMRE = [make_fodselsnummer(born, month_add=40) for born in BIRTH_DATES]
# Bank codes whose first two digits are neither a day (01-31) nor a D-nummer
# day (41-71), so these account numbers cannot also be read as fødselsnummer.
BANKS = ("8601", "9710", "3600", "7874", "3201")
KONTONUMRE = [make_kontonummer(bank, 12345 + 4321 * i) for i, bank in enumerate(BANKS)]

FNR_FORMS = {
    "plain": lambda n: n,
    "space": lambda n: f"{n[:6]} {n[6:]}",
    "hyphen": lambda n: f"{n[:6]}-{n[6:]}",
    "no-break-space": lambda n: f"{n[:6]}\u00a0{n[6:]}",
}
ACCOUNT_FORMS = {
    "plain": lambda n: n,
    "dots": lambda n: f"{n[:4]}.{n[4:6]}.{n[6:]}",
    "spaces": lambda n: f"{n[:4]} {n[4:6]} {n[6:]}",
    "hyphens": lambda n: f"{n[:4]}-{n[4:6]}-{n[6:]}",
}
IBAN_FORMS = {
    "iban-compact": lambda n: kontonr.to_iban(n),
    "iban-bank-grouping": lambda n: kontonr.to_iban(f"{n[:4]} {n[4:6]} {n[6:]}"),
    "iban-print": lambda n: _groups_of_four(kontonr.to_iban(n)),
}


def _groups_of_four(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def forms(numbers: list[str], shapes: dict) -> list:
    return [
        pytest.param(shape(number), id=f"{number}-{name}")
        for number in numbers
        for name, shape in shapes.items()
    ]


def assert_masked(template: str, value: str, kind: PersonalData) -> None:
    result = mask_personal_data(template.format(value))
    assert result.text == template.format(TOKENS[kind])
    assert result.found == (kind,)


NORWEGIAN_PHONES = [
    pytest.param("22 33 44 55", id="pairs"),
    pytest.param("912 34 567", id="three-two-three"),
    pytest.param("91234567", id="plain"),
    pytest.param("+47 22 33 44 55", id="plus47-pairs"),
    pytest.param("+4791234567", id="plus47-plain"),
    pytest.param("0047 912 34 567", id="0047-three-two-three"),
    pytest.param("(+47) 91234567", id="parenthesised-plus47"),
    pytest.param("+47 9123 4567", id="plus47-four-four"),
    pytest.param("+47 12 34 56 78", id="plus47-first-digit-one"),
    pytest.param("22\u00a033\u00a044\u00a055", id="no-break-spaces"),
]
FOREIGN_PHONES = [
    pytest.param("+44 20 7946 0958", id="uk"),
    pytest.param("+44 (0)20 7946 0958", id="uk-trunk-zero"),
    pytest.param("+46 8 123 456 78", id="sweden"),
    pytest.param("+1 (555) 123-4567", id="usa"),
    pytest.param("+4520304050", id="denmark-compact"),
    pytest.param("+48 601-234-567", id="poland-hyphens"),
]
EMAILS = [
    pytest.param("ola.nordmann@eksempel.no", id="dotted"),
    pytest.param("ola+lonn@eksempel.no", id="plus-tag"),
    pytest.param("kari@post.avd.eksempel.no", id="subdomains"),
    pytest.param("ørjan@eksempel.no", id="non-ascii-local"),
    pytest.param("Åse.Bø@fagforening-eksempel.no", id="capitals-and-hyphen"),
    pytest.param("KARI_HANSEN-2@EKSEMPEL.COM", id="upper-case"),
    pytest.param("per%avd@eksempel.org", id="percent"),
    pytest.param("22334455@sms.eksempel.no", id="digits-local"),
    pytest.param("ola@eksempel.xn--mgbai9azgqp6j", id="punycode-domain"),
]
ORDINARY = [
    pytest.param("Kontingenten er 520 kr i måneden.", id="amount-kr"),
    pytest.param("Jeg fikk 1 200 kroner i tillegg.", id="amount-thousands"),
    pytest.param("Lønna økte med 12 500 i år.", id="amount-no-unit"),
    pytest.param("Årslønna er 612\u00a0000 kr.", id="amount-no-break-space"),
    pytest.param("Beløpet er 1 234 567,89 kroner.", id="amount-millions"),
    pytest.param("Potten er på 12 000 000 kr.", id="amount-eight-digits"),
    pytest.param("Tariffoppgjøret 2026 er ferdig.", id="year"),
    pytest.param("Perioden 2024–2026 er over.", id="year-range"),
    pytest.param("Tillegget er 4,5 % fra 1. mai.", id="percentage"),
    pytest.param("Møtet er 12.03.2026.", id="date-dots"),
    pytest.param("Fristen er 12/3.", id="date-slash"),
    pytest.param("Fra 01.01.2025 til 31.12.2026.", id="date-range"),
    pytest.param("Vi har åpent 08.00–16.00.", id="opening-hours"),
    pytest.param("Møtet starter kl. 08:30.", id="time-colon"),
    pytest.param("Medlemsnummeret mitt er 1234567.", id="membership-number"),
    pytest.param("Faktura 987654 er betalt.", id="invoice-number"),
    pytest.param("Faktura 12345678 er betalt.", id="eight-digits-first-one"),
    pytest.param("Adressen er Storgata 5, 0150 Oslo.", id="postal-code"),
    pytest.param("Organisasjonsnummer 987 654 321.", id="organisation-number"),
    pytest.param("Jeg jobber 37,5 timer i uka.", id="decimal-hours"),
    pytest.param("Ring 112 eller 113 ved nødsfall.", id="emergency-numbers"),
    pytest.param("Temperaturen var +5 grader.", id="plus-sign"),
]
OTHER_SCRIPTS = [
    pytest.param("Takk! 🙏👍🏽 Ha en fin dag 🇳🇴", id="emoji"),
    pytest.param("👨‍👩‍👧 familie 🧑🏿‍🔧", id="emoji-zwj"),
    pytest.param("Здравствуйте! У меня вопрос о зарплате за март.", id="cyrillic"),
    pytest.param("مرحبا، عندي سؤال عن الإجازة", id="arabic"),
    pytest.param("我想问一下加班费的问题。", id="chinese"),
    pytest.param("こんにちは、休暇について質問があります", id="japanese"),
    pytest.param("ሰላም፣ ስለ ደሞዝ ጥያቄ አለኝ", id="ethiopic"),
    pytest.param("Γεια σας, έχω μια ερώτηση", id="greek"),
    pytest.param("Hei 😀 " * 300, id="long-emoji"),
]


def _sentences() -> list[str]:
    numbers = FODSELSNUMRE + D_NUMRE + H_NUMRE + KONTONUMRE
    return [
        f"Nummeret er {value}, og tallet {p.values[0]} står her også."
        for value in numbers + [with_wrong_check_digit(n) for n in numbers]
        for p in NORWEGIAN_PHONES + FOREIGN_PHONES + EMAILS
    ] + [p.values[0] for p in ORDINARY + OTHER_SCRIPTS]


def test_checksum_helpers_agree_with_stdnum():
    for number in FODSELSNUMRE + D_NUMRE + H_NUMRE:
        assert fodselsnummer.is_valid(number), number
        assert kontonr.is_valid(number), number
    for number in KONTONUMRE:
        assert kontonr.is_valid(number), number
        assert not fodselsnummer.is_valid(number), number
    for number in FODSELSNUMRE + D_NUMRE + H_NUMRE + KONTONUMRE:
        assert not fodselsnummer.is_valid(with_wrong_check_digit(number)), number
        assert not kontonr.is_valid(with_wrong_check_digit(number)), number


@pytest.mark.parametrize("written", forms(FODSELSNUMRE, FNR_FORMS))
def test_fodselsnummer_in_sentence_is_masked(written):
    assert_masked("Fødselsnummeret mitt er {}, kan dere sjekke det?", written, FNR)


@pytest.mark.parametrize("written", forms(D_NUMRE, FNR_FORMS))
def test_d_nummer_is_masked_as_fodselsnummer(written):
    assert_masked("Jeg har D-nummer {} fra Skatteetaten.", written, FNR)


@pytest.mark.parametrize("written", forms(H_NUMRE, {"plain": FNR_FORMS["plain"]}))
def test_h_nummer_is_masked_as_fodselsnummer(written):
    assert_masked("Hjelpenummeret er {}.", written, FNR)


@pytest.mark.parametrize("written", forms(KONTONUMRE, ACCOUNT_FORMS))
def test_kontonummer_in_sentence_is_masked(written):
    assert_masked("Lønna skal inn på konto {} fra neste måned.", written, KONTO)


@pytest.mark.parametrize("written", forms(KONTONUMRE[:2], IBAN_FORMS))
def test_kontonummer_in_iban_form_is_masked(written):
    assert_masked("IBAN: {} (for utbetaling fra utlandet)", written, KONTO)


@pytest.mark.parametrize("written", forms(FODSELSNUMRE[:3], ACCOUNT_FORMS))
def test_kontonummer_grouping_decides_between_valid_readings(written):
    # A valid fødselsnummer is also a valid account number; written in the
    # bank's 4.2.5 grouping it is read as an account, otherwise as an ID.
    kind = FNR if written.isdigit() else KONTO
    assert_masked("Kontonummer {}", written, kind)


@pytest.mark.parametrize(
    "written",
    forms([with_wrong_check_digit(n) for n in FODSELSNUMRE[:3]], FNR_FORMS)
    + forms([with_wrong_check_digit(n) for n in KONTONUMRE[:3]], ACCOUNT_FORMS),
)
def test_nummer_masks_eleven_digits_that_fail_both_checks(written):
    assert_masked("Jeg tror nummeret er {}, men er ikke sikker.", written, NUMMER)


def test_nummer_never_leaves_eleven_random_digits_unmasked():
    rng = random.Random(11)
    for _ in range(300):
        digits = "".join(rng.choice("0123456789") for _ in range(11))
        result = mask_personal_data(f"Nummer: {digits}.")
        assert result.found in ((FNR,), (KONTO,), (NUMMER,)), digits
        assert digits not in result.text


@pytest.mark.parametrize("phone", NORWEGIAN_PHONES)
def test_telefonnummer_norwegian_forms_are_masked(phone):
    assert_masked("Du kan ringe meg på {} etter klokka fire.", phone, TELEFON)


@pytest.mark.parametrize("phone", FOREIGN_PHONES)
def test_telefonnummer_foreign_forms_are_masked(phone):
    assert_masked("Jeg er i utlandet, ring {} i stedet.", phone, TELEFON)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Referanse 12345678.", id="plain"),
        pytest.param("Referanse 01 23 45 67.", id="pairs"),
        pytest.param("Referanse 123 45 678.", id="three-two-three"),
    ],
)
def test_telefonnummer_without_country_code_needs_first_digit_two_to_nine(text):
    assert mask_personal_data(text) == MaskResult(text, ())


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_numbers_stay(text):
    assert mask_personal_data(text) == MaskResult(text, ())


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("Send svaret til {}.", id="sentence-end"),
        pytest.param("Kari Hansen <{}>", id="angle-brackets"),
        pytest.param("mailto:{}", id="mailto"),
        pytest.param("E-post ({}), takk", id="parentheses"),
    ],
)
@pytest.mark.parametrize("address", EMAILS)
def test_email_forms_are_masked(template, address):
    assert_masked(template, address, EMAIL)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Vi møtes @ kontoret kl. 10.", id="lone-at"),
        pytest.param("Følg oss på @fagforeningen.", id="handle"),
        pytest.param("Skriv @-tegnet som alfakrøll.", id="at-sign-word"),
        pytest.param("ola@eksempel er ikke en adresse.", id="no-top-level-domain"),
    ],
)
def test_email_lookalikes_stay(text):
    assert mask_personal_data(text) == MaskResult(text, ())


def test_several_items_are_masked_in_order():
    text = (
        f"Hei, jeg er Kari (fnr {FODSELSNUMRE[0]}). Lønna skal til "
        f"{KONTONUMRE[0][:4]}.{KONTONUMRE[0][4:6]}.{KONTONUMRE[0][6:]}, ring "
        "+47 912 34 567 eller skriv til kari.hansen@eksempel.no. Jeg betalte "
        "520 kr 12.03.2026."
    )

    result = mask_personal_data(text)

    assert result.text == (
        "Hei, jeg er Kari (fnr [fødselsnummer]). Lønna skal til [kontonummer], "
        "ring [telefonnummer] eller skriv til [e-post]. Jeg betalte 520 kr "
        "12.03.2026."
    )
    assert result.found == (FNR, KONTO, TELEFON, EMAIL)


def test_found_counts_every_occurrence():
    text = "Ring 22 33 44 55 eller 91234567, eller mail a@eksempel.no."

    found = mask_personal_data(text).found

    assert found.count(TELEFON) == 2
    assert found.count(EMAIL) == 1


def test_masking_twice_changes_nothing():
    for sentence in _sentences():
        once = mask_personal_data(sentence)
        twice = mask_personal_data(once.text)
        assert twice == MaskResult(once.text, ()), sentence


@pytest.mark.parametrize("text", OTHER_SCRIPTS)
def test_emoji_and_other_scripts_stay(text):
    assert mask_personal_data(text) == MaskResult(text, ())


def test_emoji_beside_phone_number_stays():
    result = mask_personal_data("📞 22 33 44 55 🙂")

    assert result == MaskResult("📞 [telefonnummer] 🙂", (TELEFON,))


@pytest.mark.parametrize(
    ("template", "value", "kind"),
    [
        pytest.param("رقم هاتفي {} شكرا", "٩١٢٣٤٥٦٧", TELEFON, id="arabic-indic"),
        pytest.param("फ़ोन {}", "९१२३४५६७", TELEFON, id="devanagari"),
        pytest.param(
            "番号は{}です",
            FODSELSNUMRE[0].translate(
                str.maketrans("0123456789", "０１２３４５６７８９")
            ),
            FNR,
            id="full-width",
        ),
    ],
)
def test_unicode_digits_are_masked(template, value, kind):
    assert_masked(template, value, kind)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        pytest.param(
            "(+47)22334455ola@eksempel.no",
            "[telefonnummer][e-post]",
            id="phone-then-email",
        ),
        pytest.param("tlf+4791234567", "tlf[telefonnummer]", id="word-then-phone"),
        pytest.param(
            "Ring22334455, takk", "Ring[telefonnummer], takk", id="word-glued"
        ),
    ],
)
def test_glued_items_are_masked_in_one_pass(text, masked):
    result = mask_personal_data(text)

    assert result.text == masked
    assert mask_personal_data(result.text).found == ()


def test_unusual_spaces_outside_items_are_kept():
    text = "Beløp:\u00a0520\u202fkr, ring 22\u00a033\u00a044\u00a055."

    result = mask_personal_data(text)

    assert result.text == "Beløp:\u00a0520\u202fkr, ring [telefonnummer]."


def test_empty_text_gives_empty_result():
    assert mask_personal_data("") == MaskResult("", ())


def test_mask_result_is_frozen():
    result = mask_personal_data("a@eksempel.no")

    with pytest.raises(FrozenInstanceError):
        result.text = "a@eksempel.no"  # type: ignore[misc]


def test_every_kind_has_a_bracketed_token():
    assert set(TOKENS) == set(PersonalData)
    for token in TOKENS.values():
        assert token.startswith("[") and token.endswith("]")
        assert mask_personal_data(token) == MaskResult(token, ())


SIZE = 100_000


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("a" * SIZE, id="letters"),
        pytest.param("a@" * (SIZE // 2), id="at-signs"),
        pytest.param("a." * (SIZE // 2) + "@", id="local-part-dots"),
        pytest.param("x@" + "a." * (SIZE // 2), id="domain-dots"),
        pytest.param("a.b.c.d@" * (SIZE // 8), id="addresses-without-domain"),
        pytest.param("x@" + "a-" * (SIZE // 2), id="domain-hyphens"),
        pytest.param("+" * SIZE + "@", id="plus-signs"),
        pytest.param("1" * SIZE, id="digits"),
        pytest.param("1 " * (SIZE // 2), id="spaced-digits"),
        pytest.param("22 " * (SIZE // 3), id="digit-pairs"),
        pytest.param("1." * (SIZE // 2), id="dotted-digits"),
        pytest.param("+" + "1" * SIZE, id="plus-then-digits"),
        pytest.param(("+" + "1" * 20) * (SIZE // 21), id="overlong-phones"),
        pytest.param("+(1)" * (SIZE // 4), id="parenthesised-digits"),
        pytest.param(("NO" + "1" * 20 + " ") * (SIZE // 23), id="overlong-ibans"),
        pytest.param("😀" * SIZE, id="emoji"),
        pytest.param("ring " * (SIZE // 5), id="cue-words"),
        pytest.param("på" + " er" * (SIZE // 3) + " 9", id="cue-fillers"),
        pytest.param("tlf" + " " * SIZE + "9123 456", id="cue-long-space"),
        pytest.param("01.02.03 " * (SIZE // 9), id="dates"),
        pytest.param("1234 5678 " * (SIZE // 10), id="four-four-groups"),
        pytest.param("1, " * (SIZE // 3), id="comma-separated-digits"),
        pytest.param("12 - " * (SIZE // 5), id="spaced-dash-groups"),
        pytest.param("a (at) " * (SIZE // 7), id="parenthesised-at-words"),
        pytest.param("x at y dot " * (SIZE // 11), id="spelled-at-and-dot"),
    ],
)
def test_adversarial_input_returns(text):
    result = mask_personal_data(text)

    assert isinstance(result.text, str)


def test_random_text_never_raises_and_is_idempotent():
    rng = random.Random(2026)
    alphabet = "0123456789 .,-+@()%_abcæøåNO\u00a0\n\t😀ж٣\ud800\u0301"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(300)))
        once = mask_personal_data(text)
        assert mask_personal_data(once.text).text == once.text, repr(text)


def _dated(number: str, *, year: str, separator: str = ".") -> str:
    return f"{number[:2]}{separator}{number[2:4]}{separator}{year} {number[6:]}"


def _four_digit_year(number: str) -> str:
    return str(fodselsnummer.get_birth_date(number).year)


DATED_FORMS = {
    "date-two-digit-year": lambda n: _dated(n, year=n[4:6]),
    "date-four-digit-year": lambda n: _dated(n, year=_four_digit_year(n)),
    "date-slashes": lambda n: _dated(n, year=n[4:6], separator="/"),
    "six-three-two": lambda n: f"{n[:6]} {n[6:9]} {n[9:]}",
    "four-four-three": lambda n: f"{n[:4]} {n[4:8]} {n[8:]}",
}


@pytest.mark.parametrize(
    "written", forms(FODSELSNUMRE + D_NUMRE[:2] + H_NUMRE[:2], DATED_FORMS)
)
def test_fodselsnummer_written_as_date_and_personal_number_is_masked(written):
    assert_masked("Født {} og medlem siden 2010.", written, FNR)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            # Right date digits, wrong century: 2000s births with an individual
            # number from the 1900s range do not exist.
            _dated(FODSELSNUMRE[0], year="20" + FODSELSNUMRE[0][4:6]),
            id="four-digit-year-wrong-century",
        ),
        pytest.param(
            _dated(with_wrong_check_digit(FODSELSNUMRE[1]), year="67"),
            id="date-then-five-digits-failing-checksum",
        ),
        pytest.param("Møtet 15.03.2025 10.15 i Oslo.", id="date-and-time"),
        pytest.param("Fra 01.01.2025 til 31.12.2026.", id="date-range"),
    ],
)
def test_date_followed_by_number_that_is_no_fodselsnummer_stays(text):
    assert mask_personal_data(text) == MaskResult(text, ())


@pytest.mark.parametrize(
    "phone",
    [
        pytest.param("912-34-567", id="three-two-three-hyphens"),
        pytest.param("912.34.567", id="three-two-three-dots"),
        pytest.param("+47 912-34-567", id="plus47-three-two-three-hyphens"),
    ],
)
def test_telefonnummer_three_two_three_with_hyphens_or_dots_is_masked(phone):
    assert_masked("Ring meg på {} etter fire.", phone, TELEFON)


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("Ring {} etter fire.", id="ring"),
        pytest.param("Ringer du meg på {}?", id="ringer-paa"),
        pytest.param("tlf: {}", id="tlf-colon"),
        pytest.param("Tlf. {}", id="tlf-dot"),
        pytest.param("Telefon {}", id="telefon"),
        pytest.param("Telefonnummeret mitt er {}.", id="telefonnummeret-mitt-er"),
        pytest.param("Mobil: {}", id="mobil"),
        pytest.param("Mobilnr {}", id="mobilnr"),
        pytest.param("Nr {}", id="nr"),
        pytest.param("Nummeret er {}.", id="nummeret-er"),
        pytest.param("Send SMS {} i kveld.", id="sms"),
        pytest.param("Send en sms til {} i kveld.", id="sms-til"),
        pytest.param("Ring til {} i morgen.", id="ring-til"),
        pytest.param("Nås på {} hele dagen.", id="paa"),
    ],
)
def test_telefonnummer_four_four_after_phone_word_is_masked(template):
    result = mask_personal_data(template.format("9123 4567"))

    assert result.text == template.format(TOKENS[TELEFON])
    assert result.found == (TELEFON,)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Beløpet på 2345 6789 kr er feil.", id="paa-amount-kr"),
        pytest.param("Potten er på 2345 6789 kroner.", id="paa-amount-kroner"),
        pytest.param("Det ble på 2345 6789 NOK.", id="paa-amount-nok"),
        pytest.param("Betalte på 2345 6789,50 i fjor.", id="paa-amount-decimals"),
        pytest.param("Det står på 2345 6789,- i avtalen.", id="paa-amount-dash"),
        pytest.param("Ring 1234 5678 kl. 10.", id="first-digit-one"),
        pytest.param("Tariffperioden 2025 2026 er over.", id="years-no-cue"),
        pytest.param("Lønna gikk fra 4500 5200 i fjor.", id="four-four-no-cue"),
        pytest.param("Medlemsnummer 2345 6789 står på kortet.", id="member-word"),
        pytest.param("Kontingenten er 1 234,50 kr.", id="amount-decimals"),
        pytest.param("Møtet er 15.03.2025 kl. 18:00.", id="date-and-time"),
        pytest.param("Vi har møte på 2345.", id="paa-four-digits"),
        pytest.param("Lønna gikk fra 4500 til 5200 kr.", id="til-without-cue"),
        pytest.param("Det er på 12,5 % i år.", id="paa-percentage"),
        pytest.param("Postnummer 0150 Oslo.", id="postal-code"),
        pytest.param("Medlemsnummeret mitt er 1234567.", id="membership-number"),
    ],
)
def test_four_four_numbers_that_are_no_phone_stay(text):
    assert mask_personal_data(text) == MaskResult(text, ())


@pytest.mark.parametrize("number", [*KONTONUMRE, "12345670007"])
@pytest.mark.parametrize("separator", ["-", ".", " "])
def test_kontonummer_in_four_three_four_grouping_is_masked(number, separator):
    written = separator.join((number[:4], number[4:7], number[7:]))

    assert_masked("Kontoen min er {}, takk.", written, KONTO)


def test_four_three_four_grouping_tries_fodselsnummer_first():
    number = FODSELSNUMRE[0]

    assert_masked("Nummer {}", f"{number[:4]}-{number[4:7]}-{number[7:]}", FNR)


def test_new_forms_are_masked_once_and_idempotently():
    number = FODSELSNUMRE[2]
    text = (
        f"Født {_dated(number, year=number[4:6])}, ring 9123 4567 eller "
        "912-34-567, konto 1234-567-0007. Kontingenten er 1 234,50 kr."
    )

    once = mask_personal_data(text)

    assert once.text == (
        "Født [fødselsnummer], ring [telefonnummer] eller [telefonnummer], "
        "konto [kontonummer]. Kontingenten er 1 234,50 kr."
    )
    assert once.found == (FNR, TELEFON, TELEFON, KONTO)
    assert mask_personal_data(once.text) == MaskResult(once.text, ())


@pytest.mark.parametrize(
    ("text", "keep", "expected"),
    [
        pytest.param(
            "Ring 22 33 44 55 eller 98765432",
            ["+47 22 33 44 55"],
            "Ring 22 33 44 55 eller [telefonnummer]",
            id="office-phone-by-digits",
        ),
        pytest.param(
            "Skriv til Post@Forbundet.example, ikke ola@eksempel.no",
            ["post@forbundet.example"],
            "Skriv til Post@Forbundet.example, ikke [e-post]",
            id="office-email-any-case",
        ),
        pytest.param(
            "Ring 0047 22334455",
            ["22 33 44 55"],
            "Ring 0047 22334455",
            id="office-phone-with-0047",
        ),
        pytest.param("Ring 98765432", [], "Ring [telefonnummer]", id="nothing-kept"),
    ],
)
def test_kept_contact_details_stay_and_the_rest_is_masked(text, keep, expected):
    assert mask_personal_data(text, keep=keep).text == expected


FNR_SPLIT = FODSELSNUMRE[1]
KONTO_SPLIT = KONTONUMRE[1]


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        pytest.param(
            f"{FNR_SPLIT[:2]} {FNR_SPLIT[2:4]} {FNR_SPLIT[4:6]} {FNR_SPLIT[6:]}",
            FNR,
            id="fnr-pairs-then-five",
        ),
        pytest.param(f"{FNR_SPLIT[:6]} - {FNR_SPLIT[6:]}", FNR, id="fnr-spaced-dash"),
        pytest.param(f"{FNR_SPLIT[:6]}.{FNR_SPLIT[6:]}", FNR, id="fnr-dot"),
        pytest.param(
            f"{FNR_SPLIT[:6]} {FNR_SPLIT[6:8]} {FNR_SPLIT[8:]}",
            FNR,
            id="fnr-six-two-three",
        ),
        pytest.param(f"{FNR_SPLIT[:6]}/{FNR_SPLIT[6:]}", FNR, id="fnr-slash"),
        pytest.param(f"{FNR_SPLIT[:6]}_{FNR_SPLIT[6:]}", FNR, id="fnr-underscore"),
        pytest.param(
            f"{KONTO_SPLIT[:4]}. {KONTO_SPLIT[4:6]}. {KONTO_SPLIT[6:]}",
            KONTO,
            id="account-dot-space",
        ),
        pytest.param(
            f"{KONTO_SPLIT[:4]}, {KONTO_SPLIT[4:6]}, {KONTO_SPLIT[6:]}",
            KONTO,
            id="account-comma-space",
        ),
        pytest.param(
            f"{KONTO_SPLIT[:2]} {KONTO_SPLIT[2:4]} {KONTO_SPLIT[4:6]} "
            f"{KONTO_SPLIT[6:]}",
            KONTO,
            id="account-pairs-then-five",
        ),
        pytest.param(
            f"{KONTO_SPLIT[:4]} / {KONTO_SPLIT[4:6]} / {KONTO_SPLIT[6:]}",
            KONTO,
            id="account-spaced-slashes",
        ),
    ],
)
def test_split_number_with_valid_checksum_is_masked(written, kind):
    assert_masked("Nummeret mitt er {} hvis dere trenger det.", written, kind)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "Nummeret er "
            f"{with_wrong_check_digit(FNR_SPLIT)[:6]} - "
            f"{with_wrong_check_digit(FNR_SPLIT)[6:]}.",
            id="failed-checksum",
        ),
        pytest.param("Det kostet kr 1 500,00 i fjor.", id="amount-decimals"),
        pytest.param("Beløpene var 1 500, 2 000, 3 500 og 4 000.", id="amount-list"),
        pytest.param("Beløpet er 12 345 678,90 kroner.", id="amount-large"),
        pytest.param("Møtene er 12.03.2026, 14.03.2026 og 16.03.", id="date-list"),
        pytest.param("Vakta går 08.00-16.00, 16.00-24.00.", id="time-list"),
        pytest.param("Faktura 2026-000123 og 2026-000124.", id="invoice-numbers"),
        pytest.param("Saksnummer 2025/12345, sak 12.", id="case-number"),
    ],
)
def test_split_numbers_that_are_not_personal_stay(text):
    assert mask_personal_data(text) == MaskResult(text, ())


def test_split_digits_in_a_longer_run_stay():
    # The eleven digits are a valid account number, but one more group follows,
    # so the run is a list of numbers rather than one number.
    text = f"{KONTO_SPLIT[:4]}, {KONTO_SPLIT[4:6]}, {KONTO_SPLIT[6:]}, 17"

    assert mask_personal_data(text) == MaskResult(text, ())


def test_split_number_beside_masked_phone_is_masked_idempotently():
    split = f"{FNR_SPLIT[:2]} {FNR_SPLIT[2:4]} {FNR_SPLIT[4:6]} {FNR_SPLIT[6:]}"

    once = mask_personal_data(f"Ring 91234567 {split}")

    assert once.text == "Ring [telefonnummer] [fødselsnummer]"
    assert once.found == (TELEFON, FNR)
    assert mask_personal_data(once.text) == MaskResult(once.text, ())


def test_phone_inside_split_digits_failing_checksum_is_masked():
    text = "Referanse 123 912 34 567"

    assert mask_personal_data(text).text == "Referanse 123 [telefonnummer]"


def test_telefonnummer_five_three_grouping_is_masked():
    assert_masked("Ring meg på {} etter fire.", "91234 567", TELEFON)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Summen ble 91234 567 kr.", id="amount-kr"),
        pytest.param("Referanse 12345 678.", id="first-digit-one"),
    ],
)
def test_five_three_numbers_that_are_no_phone_stay(text):
    assert mask_personal_data(text) == MaskResult(text, ())


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("ola (at) eksempel.no", id="parenthesised-at"),
        pytest.param("ola(at)eksempel.no", id="parenthesised-at-no-spaces"),
        pytest.param("ola [at] eksempel [dot] no", id="bracketed-at-and-dot"),
        pytest.param("Ola.Nordmann [AT] post.eksempel.no", id="upper-case-at"),
        pytest.param("ola at eksempel dot no", id="spelled-at-and-dot"),
    ],
)
def test_email_written_with_at_in_words_is_masked(address):
    assert_masked("Svar meg på {} i dag.", address, EMAIL)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Jeg vet at eksempelet er riktig.", id="conjunction-at"),
        pytest.param("Han sa at Oslo.no er nede.", id="conjunction-at-domain"),
        pytest.param("Skriv (at) eller @ i adressen.", id="at-in-brackets-alone"),
    ],
)
def test_email_lookalikes_with_at_in_words_stay(text):
    assert mask_personal_data(text) == MaskResult(text, ())
