"""The intent model: training, classification and the decision.

One linear classifier (multinomial logistic regression) over word n-grams,
character n-grams and, when an encoder is active, sentence embeddings.
Decline examples train an ``oos`` class; a confidence threshold chosen on a
dev set or by cross-validation declines what is left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression

from veiviser.content.model import OUT_OF_SCOPE
from veiviser.errors import NotTrained, TrainingFailed
from veiviser.nlu.analysis import Analysed, Analyser
from veiviser.nlu.decision import Candidate, Decision, Policy
from veiviser.nlu.encoder import Encoder
from veiviser.nlu.features import DenseSpace, Features, SparseSpace
from veiviser.nlu.multi import split_questions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    """One training or evaluation row: a text and its intent (or ``oos``)."""

    text: str
    intent: str


@dataclass(frozen=True)
class TrainingConfig:
    """Choices that shape a model; the same config and data give the same model."""

    c: float = 8.0
    dense_weight: float = 1.5
    max_iter: int = 300
    seed: int = 0
    folds: int = 5


@dataclass
class Scores:
    """The model's confidences for one text, in-scope intents best first."""

    candidates: list[Candidate]
    oos: float


@dataclass
class NluModel:
    """A trained intent model; cheap to call from many threads."""

    analyser: Analyser
    features: Features
    classes: list[str]
    weights: np.ndarray  # (n_features, n_classes), float32
    bias: np.ndarray  # (n_classes,)
    policy: Policy
    encoder_name: str | None
    config: TrainingConfig
    stats: dict[str, float] = field(default_factory=dict)
    encoder: Encoder | None = field(default=None, repr=False)

    def scores(self, texts: Sequence[str]) -> list[Scores]:
        """Return in-scope candidates and the oos score for each text."""
        if self.weights.size == 0:
            raise NotTrained("The model has no trained weights.")
        analysed = [self.analyser.analyse(text) for text in texts]
        probabilities = self._probabilities(analysed)
        return [self._scores_from(row) for row in probabilities]

    def classify(self, text: str) -> Decision:
        """Decide what one message asks for.

        A message that holds two questions, each confidently understood as a
        different intent, gives a ``multi`` decision; otherwise the policy
        decides on the whole message.
        """
        parts = split_questions(text)
        texts = [text, *parts] if len(parts) == 2 else [text]
        scored = self.scores(texts)
        if len(scored) == 3:
            multi = self._multi(scored[1], scored[2])
            if multi is not None:
                return multi
        return self.policy.decide(scored[0].candidates, scored[0].oos)

    def classify_many(self, texts: Sequence[str]) -> list[Decision]:
        """Classify texts in one batch (evaluation); same result as one by one."""
        splits = [split_questions(text) for text in texts]
        flat: list[str] = []
        for text, parts in zip(texts, splits, strict=True):
            flat.append(text)
            if len(parts) == 2:
                flat.extend(parts)
        scored = iter(self.scores(flat))
        decisions = []
        for parts in splits:
            whole = next(scored)
            if len(parts) == 2:
                first, second = next(scored), next(scored)
                multi = self._multi(first, second)
                if multi is not None:
                    decisions.append(multi)
                    continue
            decisions.append(self.policy.decide(whole.candidates, whole.oos))
        return decisions

    def _multi(self, first: Scores, second: Scores) -> Decision | None:
        a, b = first.candidates[0], second.candidates[0]
        confident = min(a.confidence, b.confidence) >= self.policy.multi
        if not confident or a.intent == b.intent:
            return None
        if first.oos > a.confidence or second.oos > b.confidence:
            return None
        return Decision(
            "multi", (a.intent, b.intent), min(a.confidence, b.confidence), (a, b)
        )

    def _probabilities(self, analysed: Sequence[Analysed]) -> np.ndarray:
        embeddings = self.features.embed(self.encoder, analysed)
        if self.features.dense is not None and embeddings is None:
            raise NotTrained(
                f"The model was trained with the encoder {self.encoder_name!r}, "
                "which is not loaded."
            )
        matrix = self.features.matrix(analysed, embeddings)
        logits = np.asarray(matrix @ self.weights) + self.bias
        return _softmax(logits)

    def _scores_from(self, row: np.ndarray) -> Scores:
        oos = 0.0
        candidates = []
        for index in np.argsort(-row):
            label = self.classes[index]
            if label == OUT_OF_SCOPE:
                oos = float(row[index])
            else:
                candidates.append(Candidate(label, float(row[index])))
        return Scores(candidates, oos)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def train(
    examples: Sequence[Example],
    encoder: Encoder | None,
    config: TrainingConfig | None = None,
    *,
    dev: Sequence[Example] | None = None,
    policy: Policy | None = None,
) -> NluModel:
    """Train a model and choose its decline threshold.

    Args:
        examples: training rows; rows labelled ``oos`` teach what to decline.
        encoder: the dense encoder, or None for sparse features only.
        config: training choices; defaults are tuned on public benchmarks.
        dev: rows to choose the decline threshold on. Without them the
            threshold comes from cross-validation on ``examples``.
        policy: use these thresholds as they are and choose none.

    Raises:
        TrainingFailed: fewer than two intents, or no usable rows.
    """
    config = config or TrainingConfig()
    started = time.perf_counter()
    model = fit(examples, encoder, config)
    if policy is None:
        policy = choose_policy(model, examples, encoder, config, dev)
    model.policy = policy
    model.stats["seconds"] = time.perf_counter() - started
    log.info(
        "model trained: %d intents, %d phrases, %.2f s, decline threshold %.3f",
        len([c for c in model.classes if c != OUT_OF_SCOPE]),
        len(examples),
        model.stats["seconds"],
        policy.decline,
    )
    return model


def fit(
    examples: Sequence[Example], encoder: Encoder | None, config: TrainingConfig
) -> NluModel:
    """Fit features and weights, with the default policy."""
    labels = sorted({example.intent for example in examples})
    in_scope = [label for label in labels if label != OUT_OF_SCOPE]
    if len(in_scope) < 1 or len(labels) < 2:
        raise TrainingFailed(
            f"Training needs at least two classes; got {len(labels)} ({labels}).",
            details={"classes": labels},
        )
    texts = [example.text for example in examples]
    analyser = Analyser(texts)
    analysed = [analyser.analyse(text) for text in texts]
    embeddings = (
        encoder.encode([a.surface for a in analysed], "query") if encoder else None
    )
    features = Features(
        word=SparseSpace.fit("word", [a.stems for a in analysed]),
        char=SparseSpace.fit("char", [a.folded for a in analysed]),
        dense=DenseSpace.fit(embeddings, config.dense_weight)
        if embeddings is not None
        else None,
    )
    matrix = features.matrix(analysed, embeddings)
    target = np.array([labels.index(example.intent) for example in examples])
    classifier = LogisticRegression(
        C=config.c, max_iter=config.max_iter, random_state=config.seed, tol=1e-4
    )
    classifier.fit(matrix, target)
    weights, bias = _full_weights(classifier, len(labels))
    return NluModel(
        analyser=analyser,
        features=features,
        classes=labels,
        weights=weights,
        bias=bias,
        policy=Policy(),
        encoder_name=encoder.name if encoder else None,
        config=config,
        encoder=encoder,
    )


def _full_weights(
    classifier: LogisticRegression, n_labels: int
) -> tuple[np.ndarray, np.ndarray]:
    coef = classifier.coef_
    intercept = classifier.intercept_
    if n_labels == 2:
        # scikit-learn keeps one row for two classes; softmax wants both.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef.T.astype(np.float32).copy(), intercept.astype(np.float32)


def choose_policy(
    model: NluModel,
    examples: Sequence[Example],
    encoder: Encoder | None,
    config: TrainingConfig,
    dev: Sequence[Example] | None,
) -> Policy:
    """Choose the decline threshold on dev, or by cross-validation."""
    if dev:
        scored = model.scores([example.text for example in dev])
        truth = [example.intent for example in dev]
    else:
        scored, truth = _cross_validated_scores(examples, encoder, config)
    if not scored:
        return Policy()
    threshold = best_threshold(scored, truth)
    return Policy(decline=threshold)


def _cross_validated_scores(
    examples: Sequence[Example], encoder: Encoder | None, config: TrainingConfig
) -> tuple[list[Scores], list[str]]:
    rng = np.random.default_rng(config.seed)
    folds = np.arange(len(examples)) % config.folds
    rng.shuffle(folds)
    scored: list[Scores] = []
    truth: list[str] = []
    for fold in range(config.folds):
        train_rows = [e for e, f in zip(examples, folds, strict=True) if f != fold]
        test_rows = [e for e, f in zip(examples, folds, strict=True) if f == fold]
        if not test_rows or len({e.intent for e in train_rows}) < 2:
            continue
        model = fit(train_rows, encoder, config)
        scored.extend(model.scores([e.text for e in test_rows]))
        truth.extend(e.intent for e in test_rows)
    return scored, truth


def best_threshold(scored: Sequence[Scores], truth: Sequence[str]) -> float:
    """The decline threshold that best balances answers and declines.

    Maximises in-scope accuracy plus out-of-scope recall minus the
    wrong-answer rate. With no out-of-scope rows, it keeps in-scope accuracy
    within half a point of its best and declines what it can below that.
    """
    best_top = np.array(
        [s.candidates[0].confidence if s.candidates else 0.0 for s in scored]
    )
    oos_wins = np.array(
        [s.oos > (s.candidates[0].confidence if s.candidates else 0) for s in scored]
    )
    correct = np.array(
        [
            bool(s.candidates) and s.candidates[0].intent == t
            for s, t in zip(scored, truth, strict=True)
        ]
    )
    is_oos = np.array([t == OUT_OF_SCOPE for t in truth])
    n_in, n_oos = max(1, int((~is_oos).sum())), int(is_oos.sum())
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    best, best_value = 0.3, -np.inf
    for threshold in grid:
        answered = (best_top >= threshold) & ~oos_wins
        accuracy = (answered & correct & ~is_oos).sum() / n_in
        wrong = (answered & ~(correct & ~is_oos)).sum() / len(truth)
        if n_oos:
            value = accuracy + (~answered & is_oos).sum() / n_oos - wrong
        else:
            value = accuracy
        if value > best_value + 1e-9:
            best, best_value = float(threshold), value
    if n_oos:
        return best
    # No out-of-scope rows to learn from: the highest threshold that costs at
    # most half a point of accuracy.
    answered_at = lambda t: ((best_top >= t) & ~oos_wins & correct).sum() / n_in  # noqa: E731
    top = answered_at(grid[0])
    eligible = [t for t in grid if answered_at(t) >= top - 0.005]
    return float(max(eligible))


def examples_from_kb(kb, *, include_declines: bool = True) -> list[Example]:
    """Training rows from a knowledge base's active intents and decline examples."""
    rows = [
        Example(p, intent.id) for intent in kb.active_intents() for p in intent.phrases
    ]
    if include_declines:
        rows.extend(Example(text, OUT_OF_SCOPE) for text in kb.decline_examples)
    return rows


def in_scope_only(examples: Sequence[Example]) -> list[Example]:
    """Rows without the ``oos`` label."""
    return [e for e in examples if e.intent != OUT_OF_SCOPE]


__all__ = [
    "Example",
    "NluModel",
    "Scores",
    "TrainingConfig",
    "best_threshold",
    "examples_from_kb",
    "fit",
    "in_scope_only",
    "train",
]
