"""Masking of personal data before a message is stored or logged.

Members paste their fødselsnummer, bank account, phone number or e-mail
address into questions ("lønna kom ikke inn på 1234.56.78903"). Nothing that
keeps or logs a message may see those values, so every message passes through
:func:`mask_personal_data` first. Each item is replaced by a Norwegian token
such as ``[fødselsnummer]``, and the kinds that were masked are reported so
that they can be counted without being seen.

The rules err on the side of masking: a number that only might be personal
is masked, while amounts, years, dates, times, postal codes and short
membership or invoice numbers are left alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from stdnum.no import fodselsnummer, kontonr


class PersonalData(StrEnum):
    """The kinds of personal data that :func:`mask_personal_data` masks."""

    FODSELSNUMMER = "fodselsnummer"
    KONTONUMMER = "kontonummer"
    TELEFONNUMMER = "telefonnummer"
    EMAIL = "email"
    NUMMER = "nummer"


# The token that replaces each kind. Translating the masked text means
# changing this mapping and nothing else.
TOKENS: Mapping[PersonalData, str] = MappingProxyType(
    {
        PersonalData.FODSELSNUMMER: "[fødselsnummer]",
        PersonalData.KONTONUMMER: "[kontonummer]",
        PersonalData.TELEFONNUMMER: "[telefonnummer]",
        PersonalData.EMAIL: "[e-post]",
        PersonalData.NUMMER: "[nummer]",
    }
)

# Matching runs on a copy in which no-break and thin spaces are plain spaces
# and Unicode hyphens are "-". Every replacement is one character for one, so
# positions in the copy are positions in the original, which stays untouched
# outside the masked items.
_PLAIN_SEPARATORS = dict.fromkeys(map(ord, "\u00a0\u2007\u2009\u202f"), " ")
_PLAIN_SEPARATORS |= dict.fromkeys(map(ord, "\u2010\u2011"), "-")

# `\d` is any Unicode decimal digit, so numbers typed on an Arabic or a
# full-width keyboard are masked too; `_digits` turns them into ASCII.
#
# Only the number shapes start with a guard (no digit just before them), and
# no masked item can end just before a digit. So what a guard sees is never
# part of an earlier item, and masking the masked text finds nothing new.
#
# The parts of an e-mail address are bounded (64 characters for the local
# part, 63 for a domain label, as the RFCs allow; at most eight labels), so
# trying an address at every position costs a bounded number of steps.
_LOCAL_PART = r"[\w.+%\-\u0300-\u036f]{1,64}"
# The top-level domain starts with a letter and may hold digits and hyphens
# after it, as the ASCII form of a non-Latin domain does ("xn--p1ai").
_EMAIL = rf"{_LOCAL_PART}@(?:[\w\-]{{1,63}}\.){{1,8}}[^\W\d_][\w\-]+"
# Addresses written to dodge harvesters: "ola (at) eksempel.no", "ola [at]
# eksempel [dot] no". The bracketed words cannot be ordinary text. Spelled
# out without brackets, both "at" and "dot" are needed: "at" alone is the
# Norwegian conjunction, while "dot" before a top-level domain is not a word.
_AT_BRACKETED = r" ?[(\[](?i:at)[)\]] ?"
_DOT_BRACKETED = r"(?:\.| ?[(\[](?i:dot)[)\]] ?)"
_EMAIL_BRACKETED = (
    rf"{_LOCAL_PART}{_AT_BRACKETED}"
    rf"(?:[\w\-]{{1,63}}{_DOT_BRACKETED}){{1,8}}[^\W\d_][\w\-]+"
)
_EMAIL_SPELLED = (
    rf"\b{_LOCAL_PART} (?i:at) (?:[\w\-]{{1,63}} (?i:dot) ){{1,8}}[^\W\d_][\w\-]+"
)
_IBAN = r"[Nn][Oo]\d\d(?: ?\d){11}(?!\d)"
_ACCOUNT = r"(?<!\d)\d{4}[ .\-]\d\d[ .\-]\d{5}(?!\d)"
# The bank's 4.3.4 grouping ("1234-567-0007") seen on some printed forms.
_ACCOUNT_434 = r"(?<!\d)\d{4}(?P<sep434>[ .\-])\d{3}(?P=sep434)\d{4}(?!\d)"
_ELEVEN = r"(?<!\d)(?:\d{11}|\d{6}[ \-]\d{5})(?!\d)"
# Eleven digits in the groupings people use to read an ID number aloud:
# "150385 101 90" and "1503 8510 190".
_ELEVEN_GROUPED = r"(?<!\d)(?:\d{6} \d{3} \d\d|\d{4} \d{4} \d{3})(?!\d)"
# The birth date written as a date, then the personal number: "15.03.85 10190"
# or "15.03.1985 10190". Only a valid ID number is masked (see _classify).
# Limitation: a date followed by five digits that fail the checksum is left
# as it is, unlike eleven bare digits, since a date next to a number is common
# text; a typo in a dated ID number is therefore stored. Cue words ("født",
# "fnr") would let such numbers be masked as [nummer].
_DATED_ID = (
    r"(?<!\d)(?P<dd>\d\d)(?P<dsep>[./\-])(?P<mm>\d\d)(?P=dsep)"
    r"(?P<yyyy>\d\d(?:\d\d)?)[ \-](?P<pnr>\d{5})(?!\d)"
)
# Eleven digits in any other grouping: "15 05 85 10170", "150585 - 10170",
# "1503, 12, 34562", "150585/10170". Digits may be split by a space or by a
# dot, comma, hyphen, slash or underscore with at most one space either side.
# Since such groups are also how amounts, dates and lists are written, only a
# number with a valid ID or account checksum is masked (see _classify), and
# only when the run of split digits is exactly these eleven: a longer run
# ("1 500, 2 000, 3 500") is a list of numbers, not one.
# Limitation: a split number that fails both checksums (a typo) is stored as
# written, and so is one joined to a further number by a separator ("1503. 12.
# 34562, 2 stk"); cue words ("fnr", "konto") would let both be masked.
_SPLIT = r"(?: ?[.,/_\-] ?| )"
_ELEVEN_SPLIT = (
    r"(?<!\d)(?<!\d[ .,/_\-])(?<!\d [.,/_\-])(?<!\d[.,/_\-] )(?<!\d [.,/_\-] )"
    rf"\d(?:{_SPLIT}?\d){{10}}(?!{_SPLIT}?\d)"
)


# A following currency ("på 2345 6789 kr") or decimal part marks an amount.
_NOT_AMOUNT = r"(?!\s*(?i:kr\b|kroner|nok\b|,-|[.,]\d))"


def _phone_groups(separator: str) -> str:
    """Return the Norwegian phone groupings; ``separator`` names a group.

    The 3-2-3 grouping may use spaces, dots or hyphens ("912-34-567"), the
    same one twice; each use needs its own group name. The 5-3 grouping
    ("91234 567") is no amount ("12345 678 kr") when no currency follows.
    """
    return (
        rf"\d{{8}}|\d\d(?: \d\d){{3}}"
        rf"|\d{{3}}(?P<{separator}>[ .\-])\d\d(?P={separator})\d{{3}}"
        rf"|\d{{5}} \d{{3}}{_NOT_AMOUNT}"
    )


_PHONE = rf"(?<!\d)(?:{_phone_groups('sep323')})(?!\d)"
# The 4-4 grouping also after a word that announces a phone number ("ring",
# "tlf", "mobil", "nr", "på" ...). Only the number is masked, not the word.
_PHONE_CUE = (
    r"(?i:\b(?:ring\w*|tlf|telefon\w*|mobil\w*|nr|nummer\w*|sms|på)"
    r"[.:]?(?:\s+(?:er|mitt|min|meg|til))*\s*)"
)
# A third group ("1503 8510 190") makes it an ID number, not a phone.
# Limitation: after a cue word, an amount written without a unit ("økte på
# 2345 6789") is masked as a phone number; only the unit tells them apart.
_PHONE_CUED = (
    rf"{_PHONE_CUE}(?P<cued_number>\d{{4}} \d{{4}})"
    rf"{_NOT_AMOUNT}(?![ .\-]?\d)"
)
# Without a cue word, the 4-4 grouping ("9123 4567") is accepted only after
# the country code; otherwise "2025 2026" or "1200 1500" would be read as
# phone numbers.
# Limitation: "9123 4567" with neither a cue word nor a country code is left
# as it is; only the words around it could tell a phone from two numbers.
_NORWAY = r"(?:\+47|\(\+47\)|(?<!\d)0047) ?"
_PHONE_NO = rf"{_NORWAY}(?:{_phone_groups('sep323no')}|\d{{4}} \d{{4}})(?!\d)"
# One digit at a time, each optionally after a single separator or inside
# parentheses: the shape is unambiguous, so a failed match backtracks at most
# fifteen steps. Fifteen digits is the longest number the ITU allows.
_PHONE_INTL = r"\(?\+\d(?:[ \-]?\(?\d\)?){6,14}(?!\d)"

# Alternatives are tried in this order where several start at one position.
# E-mail goes first because a local part may hold digits that would otherwise
# look like a phone number; the Norwegian phone forms go before the general
# international form, which would also accept them.
_SHAPES = {
    "email": _EMAIL,
    "email_bracketed": _EMAIL_BRACKETED,
    "email_spelled": _EMAIL_SPELLED,
    "iban": _IBAN,
    "dated_id": _DATED_ID,
    "account": _ACCOUNT,
    "account_434": _ACCOUNT_434,
    "eleven": _ELEVEN,
    "eleven_grouped": _ELEVEN_GROUPED,
    "phone_no": _PHONE_NO,
    "phone_cued": _PHONE_CUED,
    "phone": _PHONE,
    "phone_intl": _PHONE_INTL,
}
_MASKED_GROUP = {"phone_cued": "cued_number"}
_ITEM = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _SHAPES.items()))
# Split digits are looked for in a second pass, over a copy in which the items
# of the first are blanked out. A shape that needs no checksum thus wins where
# both match, and the run of split digits is bounded the same way in the
# masked text, which keeps masking idempotent.
_SPLIT_ITEM = re.compile(f"(?P<eleven_split>{_ELEVEN_SPLIT})")
_BLANK = "#"

# Norwegian numbers begin with 2 to 9; eight digits that begin with 0 or 1 and
# carry no country code are more likely an invoice or reference number.
# Limitation: a date written without separators ("24122025") is masked as a
# phone number; telling them apart would need the words around the number.
_PHONE_FIRST_DIGITS = "23456789"


@dataclass(frozen=True, slots=True)
class MaskResult:
    """A message with its personal data masked.

    Attributes:
        text: the message with every item replaced by its token from
            :data:`TOKENS`; everything else is exactly as it was.
        found: the kind of each masked item, one entry per item in the order
            they appear, so ``found.count(PersonalData.EMAIL)`` counts e-mail
            addresses. Empty when nothing was masked.
    """

    text: str
    found: tuple[PersonalData, ...] = ()


def mask_personal_data(text: str, keep: Collection[str] = ()) -> MaskResult:
    """Replace national ID numbers, accounts, phones and e-mails with tokens.

    Eleven-digit numbers are checked with python-stdnum: a valid fødselsnummer,
    D-nummer or H-nummer becomes ``[fødselsnummer]``, a valid account number
    ``[kontonummer]``, and any other eleven digits ``[nummer]``. Masking is
    idempotent: the tokens contain nothing that is masked again.

    Args:
        text: any text, raw or cleaned; it is never rejected.
        keep: items that are not personal and stay as written, such as the
            organisation's own phone number and e-mail address in an
            advisor's message. Numbers are compared by their digits, e-mail
            addresses without regard to case.

    Returns:
        The masked text and the kinds of data that were masked.
    """
    kept = {_comparable(item) for item in keep}
    pieces: list[str] = []
    found: list[PersonalData] = []
    copied_up_to = 0
    for start, end, kind in _spans(text.translate(_PLAIN_SEPARATORS)):
        if kept and _comparable(text[start:end]) in kept:
            continue
        pieces += (text[copied_up_to:start], TOKENS[kind])
        found.append(kind)
        copied_up_to = end

    pieces.append(text[copied_up_to:])
    return MaskResult("".join(pieces), tuple(found))


def _spans(plain: str) -> list[tuple[int, int, PersonalData]]:
    """Return the start, end and kind of every personal item, in order."""
    spans = list(_items(_ITEM, plain))
    blanked = list(plain)
    for start, end, _ in spans:
        blanked[start:end] = _BLANK * (end - start)
    spans += _items(_SPLIT_ITEM, "".join(blanked))
    return sorted(spans)


def _items(
    pattern: re.Pattern[str], plain: str
) -> Iterator[tuple[int, int, PersonalData]]:
    """Yield the span and kind of each item ``pattern`` finds in ``plain``.

    A candidate that :func:`_classify` rejects does not hide the text it
    covered: the search goes on one character after its start, so that a
    phone number inside a rejected date is still found.
    """
    position = 0
    while candidate := pattern.search(plain, position):
        kind = _classify(candidate)
        if kind is None:
            position = candidate.start() + 1
            continue
        # A cued phone number matched its cue word too; only the number goes.
        start, end = candidate.span(_MASKED_GROUP.get(candidate.lastgroup, 0))
        yield start, end, kind
        position = candidate.end()


def _comparable(item: str) -> str:
    """An e-mail address in lower case, or a number's digits without +47."""
    if "@" in item:
        return item.strip().casefold()
    digits = _digits(item)
    if digits.startswith("0047"):
        return digits[4:]
    return digits[2:] if len(digits) == 10 and digits.startswith("47") else digits


def _classify(candidate: re.Match[str]) -> PersonalData | None:
    """Return the kind of a candidate item, or None if it is not personal."""
    digits = _digits(candidate.group())
    match candidate.lastgroup:
        case "email" | "email_bracketed" | "email_spelled":
            return PersonalData.EMAIL
        case "iban":
            return PersonalData.KONTONUMMER
        case "dated_id":
            return _classify_dated_id(candidate)
        case "account":
            return _classify_account_grouping(digits)
        case "account_434" | "eleven" | "eleven_grouped":
            return _classify_eleven_digits(digits)
        case "eleven_split":
            return _classify_split_digits(digits)
        case "phone_cued" if _digits(candidate["cued_number"])[0] not in (
            _PHONE_FIRST_DIGITS
        ):
            return None
        case "phone" if digits[0] not in _PHONE_FIRST_DIGITS:
            return None
        case _:
            return PersonalData.TELEFONNUMMER


def _classify_eleven_digits(digits: str) -> PersonalData:
    # The ID number is tried first: its second check digit is the same mod-11
    # check that account numbers use, so every valid fødselsnummer would also
    # pass as an account number.
    if fodselsnummer.is_valid(digits):
        return PersonalData.FODSELSNUMMER
    # Limitation: stdnum rejects FH-numbers (first digit 8 or 9), which pass the
    # account check and so are masked with the account token. They are still
    # masked; only the label is wrong. A check of our own would retire this.
    if kontonr.is_valid(digits):
        return PersonalData.KONTONUMMER
    # Eleven digits that pass neither check are most likely an ID or account
    # number with a typing error, which identifies the member just as well;
    # masking an unknown number costs far less than storing a real one.
    return PersonalData.NUMMER


def _classify_split_digits(digits: str) -> PersonalData | None:
    # Unlike eleven digits written as one number, split digits are often
    # several numbers side by side, so a failed checksum means "not personal".
    kind = _classify_eleven_digits(digits)
    return None if kind is PersonalData.NUMMER else kind


def _classify_dated_id(candidate: re.Match[str]) -> PersonalData | None:
    # A date followed by five digits is an ID number only when the checksum
    # says so; otherwise it is a date next to some other number ("møtet
    # 12.03.26 10190 deltakere" is unlikely, but a date is no secret).
    day, month, year = (_digits(candidate[name]) for name in ("dd", "mm", "yyyy"))
    number = f"{day}{month}{year[-2:]}{_digits(candidate['pnr'])}"
    if not fodselsnummer.is_valid(number):
        return None
    # A four-digit year must be the century the individual number implies
    # (000-499 the 1900s, 500-999 mostly the 2000s), or "15.03.2085 10190"
    # would pass on the strength of its last two digits alone.
    if len(year) == 4 and not _born_in(number, int(year)):
        return None
    return PersonalData.FODSELSNUMMER


def _born_in(number: str, year: int) -> bool:
    """Return whether the ID number's birth date falls in ``year``."""
    try:
        return fodselsnummer.get_birth_date(number).year == year
    except ValueError:
        # FH-numbers and numbers without a defined century carry no date.
        return False


def _classify_account_grouping(digits: str) -> PersonalData:
    # Nobody writes an ID number in the bank's 4.2.5 grouping, so here the
    # grouping is the better evidence and the account check goes first.
    if kontonr.is_valid(digits):
        return PersonalData.KONTONUMMER
    return _classify_eleven_digits(digits)


def _digits(text: str) -> str:
    """Return the decimal digits of ``text`` as ASCII, dropping the rest."""
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())
