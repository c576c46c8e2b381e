"""Sparse word and character n-grams, and dense sentence embeddings.

Vocabularies and weights are plain arrays so that a trained model persists as
data (see :mod:`veiviser.nlu.persist`), not as a pickle. The n-grams are cut
here rather than by scikit-learn's vectorisers: one message is then a few
dictionary look-ups instead of a vectoriser call with its fixed overhead,
which matters for answering one member at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from scipy import sparse

from veiviser.nlu.analysis import Analysed
from veiviser.nlu.encoder import Encoder

CHAR_NGRAMS = (2, 5)


def word_ngrams(text: str) -> Iterator[str]:
    """Words and pairs of neighbouring words of a space-separated text."""
    words = text.split()
    yield from words
    for first, second in pairwise(words):
        yield f"{first} {second}"


def char_ngrams(text: str) -> Iterator[str]:
    """Character 2- to 5-grams inside each word, padded with one space.

    The padding marks where words begin and end, so "lønn" as a word and
    "lønn" inside "lønnsslipp" give partly different n-grams.
    """
    low, high = CHAR_NGRAMS
    for word in text.split():
        padded = f" {word} "
        for n in range(low, min(high, len(padded)) + 1):
            for start in range(len(padded) - n + 1):
                yield padded[start : start + n]


_NGRAMS = {"word": word_ngrams, "char": char_ngrams}


@dataclass
class SparseSpace:
    """One TF-IDF space: a fixed vocabulary and its inverse document weights."""

    kind: str  # "word" or "char"
    terms: list[str]
    idf: np.ndarray
    _index: dict[str, int] = field(init=False, repr=False)

    @classmethod
    def fit(cls, kind: str, texts: Sequence[str], min_count: int = 1) -> SparseSpace:
        """Learn the vocabulary and weights from training texts.

        Args:
            kind: ``"word"`` or ``"char"``.
            texts: the analysed training texts.
            min_count: keep n-grams found in at least this many texts.
        """
        ngrams = _NGRAMS[kind]
        document_frequency: Counter[str] = Counter()
        for text in texts:
            document_frequency.update(set(ngrams(text)))
        terms = sorted(t for t, n in document_frequency.items() if n >= min_count)
        frequency = np.array([document_frequency[t] for t in terms], dtype=np.float64)
        idf = np.log((1 + len(texts)) / (1 + frequency)) + 1.0
        return cls(kind, terms, idf.astype(np.float32))

    def __post_init__(self) -> None:
        self._index = {term: column for column, term in enumerate(self.terms)}

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF vector of one text as (columns, values), L2-normalised."""
        counts = Counter(
            column
            for column in map(self._index.get, _NGRAMS[self.kind](text))
            if column is not None
        )
        if not counts:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
        columns = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        # Sublinear term frequency: a word said twice is not twice the evidence.
        values = (1.0 + np.log(tf)) * self.idf[columns]
        return columns, values / np.linalg.norm(values)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The TF-IDF matrix of many texts, one L2-normalised row each."""
        rows = [self.row(text) for text in texts]
        lengths = np.array([len(columns) for columns, _ in rows], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate([c for c, _ in rows] or [np.zeros(0, np.int32)])
        data = np.concatenate([v for _, v in rows] or [np.zeros(0, np.float32)])
        return sparse.csr_matrix(
            (data, indices, indptr), shape=(len(texts), len(self.terms))
        )


@dataclass
class DenseSpace:
    """Sentence embeddings, centred and scaled per dimension on the training set.

    e5 embeddings all point roughly the same way and a few dimensions carry
    most of the variance; centring and scaling each dimension spreads them
    out, which a linear model and cosine neighbours both use better.
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, embeddings: np.ndarray) -> DenseSpace:
        """Learn the centre and per-dimension scale of training embeddings."""
        mean = embeddings.mean(axis=0)
        # A dimension that never varies must not be blown up by its zero spread.
        scale = np.maximum(embeddings.std(axis=0), 1e-6)
        return cls(mean.astype(np.float32), scale.astype(np.float32))

    def transform(self, embeddings: np.ndarray) -> np.ndarray:
        """Centred, scaled and L2-normalised embeddings, float32."""
        scaled = (embeddings - self.mean) / self.scale
        norms = np.linalg.norm(scaled, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (scaled / norms).astype(np.float32)


@dataclass
class Features:
    """All feature spaces of one model."""

    word: SparseSpace
    char: SparseSpace
    dense: DenseSpace | None

    def sparse_part(self, analysed: Sequence[Analysed]) -> sparse.csr_matrix:
        """Word and character TF-IDF side by side."""
        words = self.word.transform([a.stems for a in analysed])
        chars = self.char.transform([a.folded for a in analysed])
        return sparse.hstack([words, chars], format="csr")

    def dense_part(
        self, encoder: Encoder | None, analysed: Sequence[Analysed]
    ) -> np.ndarray | None:
        """Transformed embeddings, or None for a sparse-only model."""
        if self.dense is None or encoder is None:
            return None
        embeddings = encoder.encode([a.surface for a in analysed], "query")
        return self.dense.transform(embeddings)
