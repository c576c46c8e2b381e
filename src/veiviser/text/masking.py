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
from collections.abc import Mapping
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
_ELEVEN = r"(?<!\d)(?:\d{11}|\d{6}[ \-]\d{5})(?!\d)"
_PHONE_GROUPS = r"\d{8}|\d\d(?: \d\d){3}|\d{3} \d\d \d{3}"
_PHONE = rf"(?<!\d)(?:{_PHONE_GROUPS})(?!\d)"
# The 4-4 grouping ("9123 4567") is accepted only after the country code;
# without it, "2025 2026" or "1200 1500" would be read as phone numbers.
_NORWAY = r"(?:\+47|\(\+47\)|(?<!\d)0047) ?"
_PHONE_NO = rf"{_NORWAY}(?:{_PHONE_GROUPS}|\d{{4}} \d{{4}})(?!\d)"
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
    "account": _ACCOUNT,
    "eleven": _ELEVEN,
    "phone_no": _PHONE_NO,
    "phone": _PHONE,
    "phone_intl": _PHONE_INTL,
}
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


def mask_personal_data(text: str) -> MaskResult:
    """Replace national ID numbers, accounts, phones and e-mails with tokens.

    Eleven-digit numbers are checked with python-stdnum: a valid fødselsnummer,
    D-nummer or H-nummer becomes ``[fødselsnummer]``, a valid account number
    ``[kontonummer]``, and any other eleven digits ``[nummer]``. Masking is
    idempotent: the tokens contain nothing that is masked again.

    Args:
        text: any text, raw or cleaned; it is never rejected.

    Returns:
        The masked text and the kinds of data that were masked.
    """
    pieces: list[str] = []
    found: list[PersonalData] = []
    copied_up_to = 0
    for candidate in _ITEM.finditer(text.translate(_PLAIN_SEPARATORS)):
        kind = _classify(candidate)
        if kind is None:
            continue
        pieces += (text[copied_up_to : candidate.start()], TOKENS[kind])
        found.append(kind)
        copied_up_to = candidate.end()

    pieces.append(text[copied_up_to:])
    return MaskResult("".join(pieces), tuple(found))


def _classify(candidate: re.Match[str]) -> PersonalData | None:
    """Return the kind of a candidate item, or None if it is not personal."""
    digits = _digits(candidate.group())
    match candidate.lastgroup:
        case "email":
            return PersonalData.EMAIL
        case "iban":
            return PersonalData.KONTONUMMER
        case "account":
            return _classify_account_grouping(digits)
        case "eleven":
            return _classify_eleven_digits(digits)
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


def _classify_account_grouping(digits: str) -> PersonalData:
    # Nobody writes an ID number in the bank's 4.2.5 grouping, so here the
    # grouping is the better evidence and the account check goes first.
    if kontonr.is_valid(digits):
        return PersonalData.KONTONUMMER
    return _classify_eleven_digits(digits)


def _digits(text: str) -> str:
    """Return the decimal digits of ``text`` as ASCII, dropping the rest."""
    return "".join(str(unicodedata.decimal(char)) for char in text if char.isdecimal())
