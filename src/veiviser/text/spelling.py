"""Tolerance for one- and two-letter typos against a known vocabulary.

A token the model has never seen is replaced by the closest known token when
one is near enough: one edit for short words, two for long ones, where swapping two
neighbouring letters counts as one edit (optimal string alignment). Tokens are
compared in folded form, so ASCII spellings of æ/ø/å cost nothing.

Training phrases carry typos on purpose ("kontigent"), which makes those typos
known words. A known word seen at most :data:`RARE` times is still corrected
when a word at least :data:`DOMINANCE` times as common is one edit away, so a
member who types the typo alone is read as the common word.

A word of the language is never "corrected", even when the training phrases
happen not to use it: "bees" must not become "been", nor "sjukemelding"
anything else. Whether a token is a word comes from the ``wordfreq`` word
lists of Norwegian Bokmål (which hold much Nynorsk and dialect too) and
English; a token at least :data:`WORD_ZIPF` on their Zipf scale (about once
in a hundred million words of running text) counts as a word. Typos are far
rarer than that: "kontigent" and "insurace" are not in the lists at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import zipf_frequency

from veiviser.text.normalize import fold

MIN_LENGTH = 4
LONG_WORD = 8
MAX_CACHE = 50_000
RARE = 2
DOMINANCE = 10
WORD_ZIPF = 2.0
WORD_LANGUAGES = ("nb", "en")


def is_word(token: str) -> bool:
    """Whether ``token`` (lower case, as typed) is a word of Norwegian or English."""
    return any(zipf_frequency(token, lang) >= WORD_ZIPF for lang in WORD_LANGUAGES)


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

        Known tokens, digits, short tokens, words of the language and tokens
        with no close neighbour come back folded but otherwise unchanged.
        """
        folded = fold(token)
        if len(folded) < MIN_LENGTH or folded.isdigit():
            return folded
        count = self.counts.get(folded, 0)
        if count > RARE:
            return folded
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        if is_word(token):
            result = folded
        elif count == 0:
            result = self._nearest(folded)
        else:
            result = self._dominant(folded)
        if len(self._cache) < MAX_CACHE:
            self._cache[token] = result
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
