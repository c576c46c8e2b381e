"""Tokens and Norwegian Snowball stemming."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

# A token is a run of letters and digits, or a single pictograph (emoji), so an
# emoji-only message still has tokens to learn from.
_TOKEN = re.compile(
    r"[^\W_]+|[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]", re.UNICODE
)
_stemmer = Stemmer.Stemmer("norwegian")


def tokenize(normalized: str) -> list[str]:
    """Split normalised text into word and emoji tokens."""
    return _TOKEN.findall(normalized)


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Return the Norwegian Snowball stem of a lower-case token."""
    return _stemmer.stemWord(token)
