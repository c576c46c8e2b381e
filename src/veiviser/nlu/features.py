"""Sparse word and character n-grams, and dense sentence embeddings.

Vocabularies and weights are plain arrays so that a trained model persists as
data (see :mod:`veiviser.nlu.persist`), not as a pickle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize as l2_normalize

from veiviser.nlu.analysis import Analysed
from veiviser.nlu.encoder import Encoder


@dataclass
class SparseSpace:
    """One TF-IDF space: a fixed vocabulary and its inverse document weights."""

    kind: str  # "word" or "char"
    terms: list[str]
    idf: np.ndarray

    @classmethod
    def fit(cls, kind: str, texts: Sequence[str]) -> SparseSpace:
        counter = _counter(kind, None)
        counts = counter.fit_transform(texts)
        terms = [""] * len(counter.vocabulary_)
        for term, column in counter.vocabulary_.items():
            terms[column] = term
        document_frequency = np.bincount(counts.indices, minlength=len(terms))
        n = counts.shape[0]
        idf = np.log((1 + n) / (1 + document_frequency)) + 1.0
        return cls(kind, terms, idf.astype(np.float32))

    def __post_init__(self) -> None:
        self._counter = _counter(self.kind, self.terms)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        counts = self._counter.transform(texts).astype(np.float32)
        # Sublinear term frequency: a word said twice is not twice the evidence.
        counts.data = 1.0 + np.log(counts.data)
        weighted = counts.multiply(self.idf).tocsr()
        return l2_normalize(weighted, copy=False)


def _counter(kind: str, vocabulary: list[str] | None) -> CountVectorizer:
    if kind == "word":
        return CountVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            token_pattern=r"\S+",
            lowercase=False,
            vocabulary=vocabulary,
            dtype=np.float32,
        )
    return CountVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 5),
        lowercase=False,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


@dataclass
class DenseSpace:
    """Sentence embeddings, centred on the training mean and re-normalised.

    e5 embeddings all point roughly the same way; removing the shared mean
    spreads them out, which a linear model uses better.
    """

    mean: np.ndarray
    weight: float

    @classmethod
    def fit(cls, embeddings: np.ndarray, weight: float) -> DenseSpace:
        return cls(embeddings.mean(axis=0).astype(np.float32), weight)

    def transform(self, embeddings: np.ndarray) -> np.ndarray:
        centred = embeddings - self.mean
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (centred / norms * self.weight).astype(np.float32)


@dataclass
class Features:
    """All feature spaces of one model."""

    word: SparseSpace
    char: SparseSpace
    dense: DenseSpace | None

    def sparse_part(self, analysed: Sequence[Analysed]) -> sparse.csr_matrix:
        words = self.word.transform([a.stems for a in analysed])
        chars = self.char.transform([a.folded for a in analysed])
        return sparse.hstack([words, chars], format="csr")

    def embed(
        self, encoder: Encoder | None, analysed: Sequence[Analysed]
    ) -> np.ndarray | None:
        if self.dense is None or encoder is None:
            return None
        return encoder.encode([a.surface for a in analysed], "query")

    def matrix(
        self, analysed: Sequence[Analysed], embeddings: np.ndarray | None
    ) -> sparse.csr_matrix:
        """The full feature matrix the classifier is trained on."""
        parts = [self.sparse_part(analysed)]
        if self.dense is not None and embeddings is not None:
            parts.append(sparse.csr_matrix(self.dense.transform(embeddings)))
        return sparse.hstack(parts, format="csr")
