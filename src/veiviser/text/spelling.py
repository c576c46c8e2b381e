"""Tolerance for one- and two-letter typos against a known vocabulary.

A token the model has never seen is replaced by the closest known token when
one is near enough: one edit for short words, two for long ones, where swapping two
neighbouring letters counts as one edit (optimal string alignment). Tokens are
compared in folded form, so ASCII spellings of æ/ø/å cost nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from veiviser.text.normalize import fold

MIN_LENGTH = 4
LONG_WORD = 8
MAX_CACHE = 50_000


class SpellingCorrector:
    """Maps unknown tokens to the nearest token of a vocabulary."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self.counts: Counter[str] = Counter(fold(token) for token in tokens)
        # Frequent words first: on a tie the more common word wins.
        self._vocabulary = [word for word, _ in self.counts.most_common()]
        self._known = set(self._vocabulary)
        self._cache: dict[str, str] = {}

    @classmethod
    def from_counts(cls, counts: dict[str, int]) -> SpellingCorrector:
        """Rebuild a corrector from stored word frequencies."""
        corrector = cls(())
        corrector.counts = Counter(counts)
        corrector._vocabulary = [word for word, _ in corrector.counts.most_common()]
        corrector._known = set(corrector._vocabulary)
        return corrector

    def __contains__(self, token: str) -> bool:
        return fold(token) in self._known

    def correct(self, token: str) -> str:
        """Return the folded known token closest to ``token``.

        Known tokens, digits, short tokens and tokens with no close neighbour
        come back folded but otherwise unchanged.
        """
        folded = fold(token)
        if folded in self._known or len(folded) < MIN_LENGTH or folded.isdigit():
            return folded
        cached = self._cache.get(folded)
        if cached is not None:
            return cached
        limit = 1 if len(folded) < LONG_WORD else 2
        match = process.extractOne(
            folded,
            self._vocabulary,
            scorer=OSA.distance,
            score_cutoff=limit,
        )
        result = match[0] if match is not None else folded
        if len(self._cache) < MAX_CACHE:
            self._cache[folded] = result
        return result
