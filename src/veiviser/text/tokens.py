"""Tokens and Norwegian Snowball stemming."""

from __future__ import annotations

import re
from collections.abc import Callable
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


def map_tokens(text: str, change: Callable[[str], str]) -> str:
    """``text`` with each token replaced by ``change(token)``, all between kept."""
    return _TOKEN.sub(lambda match: change(match.group(0)), text)


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Return the Norwegian Snowball stem of a lower-case token."""
    return _stemmer.stemWord(token)
