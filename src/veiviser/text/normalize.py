"""Unicode, whitespace and case normalisation, and æ/ø/å folding.

Members type the same word in many ways: ``Å`` as one code point, as the
Ångström sign or as ``A`` plus a combining ring; ``lønn`` as ``loenn`` or
``lonn`` on a foreign keyboard. Every comparison in veiviser goes through
:func:`normalize` (exact text, case-free) and, where spelling variants must
meet, :func:`fold`.
"""

from __future__ import annotations

import re
import unicodedata

from veiviser.errors import EmptyMessage, MessageTooLong

MAX_MESSAGE_CHARS = 2000

# Zero-width characters and the byte-order mark carry no text; they are
# removed outright. Other invisible spaces become an ordinary space.
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_REPEATED_PUNCTUATION = re.compile(r"([!?.,;:])\1+")

# Folding maps both the letters and their ASCII spellings to one form, so that
# "lønn", "loenn" and "lonn" meet. Applied after case folding.
_FOLD_PAIRS = (
    ("æ", "a"),
    ("ae", "a"),
    ("ø", "o"),
    ("oe", "o"),
    ("å", "a"),
    ("aa", "a"),
)
_FOLD_LETTERS = str.maketrans({"ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u"})


def _is_control(char: str) -> bool:
    # Keep newlines and tabs as whitespace; drop every other control or
    # format character (bidi overrides, escape sequences, NUL).
    return unicodedata.category(char) in ("Cc", "Cf") and char not in "\n\t"


def clean_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Validate and tidy a member's message before anything else sees it.

    Control and zero-width characters are removed, Unicode is composed (NFC)
    and runs of whitespace of any kind become one space.

    Args:
        text: the message as received.
        limit: the most characters a message may have after tidying.

    Returns:
        The tidy message, with its original case and letters.

    Raises:
        EmptyMessage: nothing is left once whitespace is removed.
        MessageTooLong: the message is longer than ``limit``.
    """
    text = unicodedata.normalize("NFC", text.translate(_ZERO_WIDTH))
    text = "".join(char for char in text if not _is_control(char) or char in "\n\t")
    text = _SPACES.sub(" ", text).strip()
    if not text:
        raise EmptyMessage("The message is empty; write a question.")
    if len(text) > limit:
        raise MessageTooLong(
            f"The message has {len(text)} characters; the limit is {limit}.",
            details={"limit": limit, "length": len(text)},
        )
    return text


def normalize(text: str, *, casefold: bool = True) -> str:
    """Return the case-free, compatibility-composed form of ``text``.

    Used to compare texts exactly, ignoring case, Unicode spelling and
    repeated punctuation ("Hva??" equals "hva?"). With ``casefold=False``
    the case is kept (text for the sentence encoder, which reads case).
    """
    text = unicodedata.normalize("NFKC", text.translate(_ZERO_WIDTH))
    if casefold:
        text = text.casefold()
    text = "".join(" " if _is_control(char) else char for char in text)
    text = _REPEATED_PUNCTUATION.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


# A word for the shouting test: two or more letters, no digits.
_WORD = re.compile(r"[^\W\d_]{2,}")


def calm_case(text: str) -> str:
    """Lower-case a message typed in capitals or with Every Word Capitalised.

    Members who type "HVA KOSTER MEDLEMSKAP" mean what "hva koster
    medlemskap" means, but the sentence encoder reads case, and capitals it
    has rarely seen move the sentence far from its topic. A message is calmed
    when most of its words are in capitals, or when it has three or more
    words and every one starts with a capital and goes on in lower case. A
    normal sentence with an acronym ("Hva gir NAV meg?") is left as written.
    """
    words = _WORD.findall(text)
    if not words:
        return text
    shouted = sum(word.isupper() for word in words)
    titled = sum(word[0].isupper() and word[1:].islower() for word in words)
    if 2 * shouted > len(words) or (len(words) >= 3 and titled == len(words)):
        return text.lower()
    return text


def fold(token: str) -> str:
    """Fold æ/ø/å and their ASCII spellings to one form.

    ``fold("lønn") == fold("loenn") == fold("lonn") == "lonn"``. The folded
    form is for matching only, never for showing.
    """
    token = token.translate(_FOLD_LETTERS)
    for letters, plain in _FOLD_PAIRS:
        token = token.replace(letters, plain)
    return token
