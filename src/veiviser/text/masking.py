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
from collections.abc import Collection, Mapping
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


def _phone_groups(separator: str) -> str:
    """Return the Norwegian phone groupings; ``separator`` names a group.

    The 3-2-3 grouping may use spaces, dots or hyphens ("912-34-567"), the
    same one twice; each use needs its own group name.
    """
    return (
        rf"\d{{8}}|\d\d(?: \d\d){{3}}"
        rf"|\d{{3}}(?P<{separator}>[ .\-])\d\d(?P={separator})\d{{3}}"
    )


_PHONE = rf"(?<!\d)(?:{_phone_groups('sep323')})(?!\d)"
# The 4-4 grouping also after a word that announces a phone number ("ring",
# "tlf", "mobil", "nr", "på" ...). Only the number is masked, not the word. A
# following currency ("på 2345 6789 kr") or decimal part marks an amount.
_PHONE_CUE = (
    r"(?i:\b(?:ring\w*|tlf|telefon\w*|mobil\w*|nr|nummer\w*|sms|på)"
    r"[.:]?(?:\s+(?:er|mitt|min|meg|til))*\s*)"
)
_NOT_AMOUNT = r"(?!\s*(?i:kr\b|kroner|nok\b|,-|[.,]\d))"
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
    for candidate in _ITEM.finditer(text.translate(_PLAIN_SEPARATORS)):
        kind = _classify(candidate)
        if kind is None:
            continue
        # A cued phone number matched its cue word too; only the number goes.
        start, end = candidate.span(_MASKED_GROUP.get(candidate.lastgroup, 0))
        if kept and _comparable(text[start:end]) in kept:
            continue
        pieces += (text[copied_up_to:start], TOKENS[kind])
        found.append(kind)
        copied_up_to = end

    pieces.append(text[copied_up_to:])
    return MaskResult("".join(pieces), tuple(found))


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
        case "email":
            return PersonalData.EMAIL
        case "iban":
            return PersonalData.KONTONUMMER
        case "dated_id":
            return _classify_dated_id(candidate)
        case "account":
            return _classify_account_grouping(digits)
        case "account_434" | "eleven" | "eleven_grouped":
            return _classify_eleven_digits(digits)
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
