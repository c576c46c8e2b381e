"""Tolerance for one- and two-letter typos against a known vocabulary.

A token the model has never seen is replaced by the closest known token when
one is near enough: one edit for short words, two for long ones, where swapping two
neighbouring letters counts as one edit (optimal string alignment). Tokens are
compared in folded form, so ASCII spellings of æ/ø/å cost nothing.

Training phrases carry typos on purpose ("kontigent"), which makes those typos
known words. A known word seen at most :data:`RARE` times is still corrected
when a word at least :data:`DOMINANCE` times as common is one edit away, so a
member who types the typo alone is read as the common word.
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
RARE = 2
DOMINANCE = 10


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
        if len(folded) < MIN_LENGTH or folded.isdigit():
            return folded
        count = self.counts.get(folded, 0)
        if count > RARE:
            return folded
        cached = self._cache.get(folded)
        if cached is not None:
            return cached
        result = self._nearest(folded) if count == 0 else self._dominant(folded)
        if len(self._cache) < MAX_CACHE:
            self._cache[folded] = result
        return result

    def _nearest(self, folded: str) -> str:
        """The closest known word, or ``folded`` when none is near enough."""
        limit = 1 if len(folded) < LONG_WORD else 2
        match = process.extractOne(
            folded, self._vocabulary, scorer=OSA.distance, score_cutoff=limit
        )
        return match[0] if match is not None else folded

    def _dominant(self, folded: str) -> str:
        """A far more common word one edit away from a rare known word."""
        near = process.extract(
            folded, self._vocabulary, scorer=OSA.distance, score_cutoff=1, limit=10
        )
        neighbours = [word for word, distance, _ in near if distance == 1]
        if not neighbours:
            return folded
        best = max(neighbours, key=self.counts.__getitem__)
        return best if self.counts[best] >= DOMINANCE * self.counts[folded] else folded
