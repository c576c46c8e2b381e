"""Grouping queue messages by meaning: vectors, clusters, the typical message.

Messages become vectors with the model in use: its dense sentence embeddings
when it was trained with an encoder, otherwise its word and character TF-IDF
vectors. Agglomerative clustering with average linkage on cosine distances
then joins messages closer than a threshold; the result depends only on the
input, so every process computes the same clusters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import sparse
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from veiviser.nlu import NluModel
from veiviser.nlu.features import CHAR_NGRAMS

VectorKind = Literal["dense", "sparse"]
# Cosine distances under which two groups are joined (average linkage).
# Chosen on hand-made paraphrase sets (tests/test_review_clustering.py):
# paraphrases of one question join, different questions on one topic stay
# apart. Dense vectors are the model's centred embeddings; TF-IDF vectors
# share fewer dimensions between paraphrases, so their threshold is looser.
THRESHOLDS: dict[str, float] = {"dense": 0.75, "sparse": 0.8}


@dataclass(frozen=True)
class Cluster:
    """Indices into the clustered messages; ``typical`` is nearest the centre."""

    members: tuple[int, ...]
    typical: int


def message_vectors(
    model: NluModel, texts: Sequence[str]
) -> tuple[np.ndarray | sparse.csr_matrix, VectorKind]:
    """L2-normalised vectors of ``texts`` and which kind they are.

    Dense when the model has an encoder (the same embeddings it classifies
    with), otherwise word and character TF-IDF fitted on ``texts``.
    """
    analysed = [model.analyser.analyse(text) for text in texts]
    dense = model.features.dense_part(model.encoder, analysed)
    if dense is not None:
        return normalize(dense), "dense"
    # The model's own TF-IDF spaces know only the knowledge base's words,
    # and missed messages are often about something else; so the spaces are
    # fitted on the messages themselves, with the model's stemming.
    words = TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, norm="l2")
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, norm="l2"
    )
    word_rows = words.fit_transform([a.stems for a in analysed])
    char_rows = chars.fit_transform([a.folded for a in analysed])
    return normalize(sparse.hstack([word_rows, char_rows], format="csr")), "sparse"


def cluster_vectors(
    vectors: np.ndarray | sparse.csr_matrix, threshold: float
) -> list[Cluster]:
    """Cluster L2-normalised row vectors; largest cluster first.

    Ties in size go to the cluster holding the lowest index, so with the
    queue's newest-first order the more recent group comes first.
    """
    count = vectors.shape[0]
    if count == 0:
        return []
    if count == 1:
        return [Cluster((0,), 0)]
    labels = _labels(vectors, threshold)
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(int(label), []).append(index)
    clusters = [
        Cluster(tuple(members), _typical(vectors, members))
        for members in groups.values()
    ]
    return sorted(clusters, key=lambda c: (-len(c.members), c.members[0]))


def _labels(vectors: np.ndarray | sparse.csr_matrix, threshold: float) -> np.ndarray:
    similarity = vectors @ vectors.T
    if sparse.issparse(similarity):
        similarity = similarity.toarray()
    distance = np.clip(1.0 - np.asarray(similarity, dtype=np.float64), 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    # Rounding removes float noise that could otherwise break ties in merge
    # order differently on two machines.
    distance = np.round((distance + distance.T) / 2, 6)
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="precomputed",
        linkage="average",
        distance_threshold=threshold,
    )
    return model.fit(distance).labels_


def _typical(vectors: np.ndarray | sparse.csr_matrix, members: list[int]) -> int:
    rows = vectors[members]
    centre = np.asarray(rows.mean(axis=0)).ravel()
    closeness = np.asarray(rows @ centre).ravel()
    # argmax takes the first of equals: the newest message among ties.
    return members[int(np.argmax(np.round(closeness, 6)))]
