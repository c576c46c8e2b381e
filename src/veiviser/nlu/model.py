"""The intent model: training, classification and the decision.

The scorer is multinomial logistic regression over word n-grams (Norwegian
stems), character n-grams (typos, compounds) and sentence embeddings
(paraphrase), trained jointly. A nearest-neighbour vote (the cosine to each
intent's closest training phrase) can be added to its log-probabilities; it
is on in a model made by :func:`update`, where it lets a phrase added a
moment ago count at once, and off by default otherwise.

The votes are divided by a temperature chosen so that confidences
are calibrated, and a decline threshold chosen on a dev set or by
cross-validation turns confidences into decisions. Decline examples train an
``oos`` class like any other.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import sparse

from veiviser.content.model import OUT_OF_SCOPE
from veiviser.errors import NotTrained, TrainingFailed
from veiviser.nlu.analysis import Analyser
from veiviser.nlu.decision import Candidate, Decision, Policy
from veiviser.nlu.encoder import Encoder
from veiviser.nlu.features import DenseSpace, Features, SparseSpace
from veiviser.nlu.multi import split_questions
from veiviser.nlu.softmax import fit_softmax

log = logging.getLogger(__name__)

# Rows compared with the neighbour memory at once; bounds the similarity
# matrix of a large batch to a few tens of megabytes.
_CHUNK = 1024


@dataclass(frozen=True)
class Example:
    """One training or evaluation row: a text and its intent (or ``oos``)."""

    text: str
    intent: str


@dataclass(frozen=True)
class TrainingConfig:
    """Choices that shape a model; the same config and data give the same model.

    Attributes:
        c: inverse regularisation of the linear scorer.
        dense_weight: scale of the embedding block against the n-gram blocks.
        neighbour_weight: weight of the nearest-neighbour vote in a fully
            trained model. Off by default: it gained tenths of a point on a
            BANKING77 dev split but cost the demo knowledge base 7 points of
            in-scope accuracy (one 80/20 split, 88.0 without, 81.2 with).
        update_neighbour_weight: weight of the vote in a model made by
            :func:`update`, where it lets an added phrase count at once.
        neighbour_temperature: cosine differences are divided by this before
            they become the neighbour head's probabilities.
        min_count: n-grams seen in fewer training phrases are dropped.
        max_iter: the most optimiser iterations of a full training.
        update_iterations: warm-start iterations of :func:`update`.
        seed: seeds the cross-validation folds.
        folds: cross-validation folds when no dev set is given.
    """

    c: float = 8.0
    dense_weight: float = 1.5
    neighbour_weight: float = 0.0
    update_neighbour_weight: float = 0.5
    neighbour_temperature: float = 0.02
    min_count: int = 1
    max_iter: int = 150
    update_iterations: int = 15
    seed: int = 0
    folds: int = 5


@dataclass
class Linear:
    """The linear scorer over n-grams and embeddings, trained jointly.

    Weights are float32 arrays of shape (n_features, n_classes); the
    embedding block is None for a model without an encoder.
    """

    sparse_weights: np.ndarray
    dense_weights: np.ndarray | None
    bias: np.ndarray

    def logits(
        self, sparse_rows: sparse.csr_matrix, dense_rows: np.ndarray | None
    ) -> np.ndarray:
        out = np.asarray(sparse_rows @ self.sparse_weights) + self.bias
        if self.dense_weights is not None and dense_rows is not None:
            out += dense_rows @ self.dense_weights
        return out

    def with_classes(self, n_classes: int) -> Linear:
        """The scorer widened to more classes; new ones start at the lowest bias."""
        extra = n_classes - self.bias.size
        if extra <= 0:
            return self

        def widen(weights: np.ndarray) -> np.ndarray:
            return np.hstack([weights, np.zeros((len(weights), extra), np.float32)])

        return Linear(
            widen(self.sparse_weights),
            None if self.dense_weights is None else widen(self.dense_weights),
            np.concatenate([self.bias, np.full(extra, self.bias.min(), np.float32)]),
        )


@dataclass
class Memory:
    """Transformed embeddings of the training phrases, grouped by class."""

    vectors: np.ndarray  # (n_rows, dim), rows sorted by label
    labels: np.ndarray  # (n_rows,) class index, ascending
    _present: np.ndarray = field(init=False, repr=False)
    _starts: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._present, self._starts = np.unique(self.labels, return_index=True)

    @classmethod
    def build(cls, vectors: np.ndarray, labels: np.ndarray) -> Memory:
        order = np.argsort(labels, kind="stable")
        return cls(vectors[order].astype(np.float32), labels[order].astype(np.int32))

    def best_similarity(self, queries: np.ndarray, n_classes: int) -> np.ndarray:
        """The cosine of each query to each class's closest phrase (-1 if none)."""
        out = np.full((len(queries), n_classes), -1.0, dtype=np.float32)
        for first in range(0, len(queries), _CHUNK):
            similarity = queries[first : first + _CHUNK] @ self.vectors.T
            out[first : first + _CHUNK, self._present] = np.maximum.reduceat(
                similarity, self._starts, axis=1
            )
        return out


@dataclass
class TrainingRows:
    """The feature rows a model was trained on, kept in memory for updates.

    Not persisted: a model loaded from storage is refreshed by a full
    :func:`train`, which a service does in the background anyway.
    """

    target: np.ndarray
    sparse_rows: sparse.csr_matrix
    dense_rows: np.ndarray | None


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
    linear: Linear
    memory: Memory | None
    policy: Policy
    encoder_name: str | None
    config: TrainingConfig
    temperature: float = 1.0
    stats: dict[str, float] = field(default_factory=dict)
    encoder: Encoder | None = field(default=None, repr=False)
    training: TrainingRows | None = field(default=None, repr=False)

    @property
    def weights(self) -> np.ndarray:
        """The n-gram weights (the bulk of the model)."""
        return self.linear.sparse_weights

    def scores(self, texts: Sequence[str]) -> list[Scores]:
        """Return in-scope candidates and the oos score for each text."""
        probabilities = self.probabilities(texts)
        return [self._scores_from(row) for row in probabilities]

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities, one row per text, columns as ``classes``."""
        return _softmax(self.logits(texts) / self.temperature)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """The summed votes of the heads before calibration."""
        if self.linear.bias.size == 0:
            raise NotTrained("The model has no trained weights.")
        analysed = [self.analyser.analyse(text) for text in texts]
        dense_rows = self.features.dense_part(self.encoder, analysed)
        if self.features.dense is not None and dense_rows is None:
            raise NotTrained(
                f"The model was trained with the encoder {self.encoder_name!r}, "
                "which is not loaded."
            )
        return self._vote(self.features.sparse_part(analysed), dense_rows)

    def _vote(
        self, sparse_rows: sparse.csr_matrix, dense_rows: np.ndarray | None
    ) -> np.ndarray:
        votes = _log_softmax(self.linear.logits(sparse_rows, dense_rows))
        config = self.config
        if dense_rows is not None and self.memory and config.neighbour_weight > 0:
            similarity = self.memory.best_similarity(dense_rows, len(self.classes))
            votes += config.neighbour_weight * _log_softmax(
                similarity / config.neighbour_temperature
            )
        return votes

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

    def _scores_from(self, row: np.ndarray) -> Scores:
        oos = 0.0
        candidates = []
        for index in np.argsort(-row, kind="stable"):
            label = self.classes[index]
            if label == OUT_OF_SCOPE:
                oos = float(row[index])
            else:
                candidates.append(Candidate(label, float(row[index])))
        return Scores(candidates, oos)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(_log_softmax(logits))


def train(
    examples: Sequence[Example],
    encoder: Encoder | None,
    config: TrainingConfig | None = None,
    *,
    dev: Sequence[Example] | None = None,
    policy: Policy | None = None,
) -> NluModel:
    """Train a model, calibrate its confidence and choose its decline threshold.

    Args:
        examples: training rows; rows labelled ``oos`` teach what to decline.
        encoder: the dense encoder, or None for sparse features only.
        config: training choices; defaults are tuned on public benchmarks.
        dev: rows to calibrate and choose the decline threshold on. Without
            them both come from cross-validation on ``examples``.
        policy: use these thresholds as they are and choose none; the
            confidence is then left uncalibrated.

    Raises:
        TrainingFailed: fewer than two intents, or no usable rows.
    """
    config = config or TrainingConfig()
    started = time.perf_counter()
    model = fit(examples, encoder, config)
    if policy is None:
        model.temperature, policy = choose_policy(model, examples, encoder, dev)
    model.policy = policy
    model.stats["seconds"] = time.perf_counter() - started
    log.info(
        "model trained: %d intents, %d phrases, %.2f s, temperature %.2f, "
        "decline threshold %.3f",
        len([c for c in model.classes if c != OUT_OF_SCOPE]),
        len(examples),
        model.stats["seconds"],
        model.temperature,
        policy.decline,
    )
    return model


def fit(
    examples: Sequence[Example], encoder: Encoder | None, config: TrainingConfig
) -> NluModel:
    """Fit features, heads and neighbour memory, with the default policy."""
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
        word=SparseSpace.fit("word", [a.stems for a in analysed], config.min_count),
        char=SparseSpace.fit("char", [a.folded for a in analysed], config.min_count),
        dense=DenseSpace.fit(embeddings) if embeddings is not None else None,
    )
    index = {label: i for i, label in enumerate(labels)}
    rows = TrainingRows(
        target=np.array([index[example.intent] for example in examples]),
        sparse_rows=features.sparse_part(analysed),
        dense_rows=features.dense.transform(embeddings)
        if features.dense is not None and embeddings is not None
        else None,
    )
    model = NluModel(
        analyser=analyser,
        features=features,
        classes=labels,
        linear=Linear(np.zeros((0, 0), np.float32), None, np.zeros(0, np.float32)),
        memory=None,
        policy=Policy(),
        encoder_name=encoder.name if encoder else None,
        config=config,
        encoder=encoder,
    )
    return _fit_linear(model, rows)


def _fit_linear(
    model: NluModel, rows: TrainingRows, *, iterations: int | None = None
) -> NluModel:
    """Fit the linear scorer, or with ``iterations`` warm-start it, on ``rows``."""
    config, n_classes = model.config, len(model.classes)
    # The dense weight scales the embedding block, which is the same as
    # regularising its weights less than the n-gram weights.
    scale = config.dense_weight
    dense = None if rows.dense_rows is None else rows.dense_rows * scale
    if iterations is None:
        blocks = [rows.sparse_rows] if dense is None else [rows.sparse_rows, dense]
        weights, bias = fit_softmax(
            blocks, rows.target, n_classes, config.c, max_iter=config.max_iter
        )
    elif dense is None:
        start = model.linear.with_classes(n_classes)
        weights, bias = fit_softmax(
            [rows.sparse_rows],
            rows.target,
            n_classes,
            config.c,
            init=([start.sparse_weights], start.bias),
            max_iter=iterations,
        )
    else:
        # Warm-starting the n-gram block costs seconds on a large model; it
        # is held fixed and only the embedding block and bias move.
        start = model.linear.with_classes(n_classes)
        fixed = np.asarray(rows.sparse_rows @ start.sparse_weights)
        [dense_weights], bias = fit_softmax(
            [dense],
            rows.target,
            n_classes,
            config.c,
            init=([start.dense_weights / scale], start.bias),
            offset=fixed,
            max_iter=iterations,
        )
        weights = [start.sparse_weights, dense_weights]
    dense_weights = weights[1] * scale if len(weights) > 1 else None
    memory = None
    if rows.dense_rows is not None:
        memory = Memory.build(rows.dense_rows, rows.target)
    return replace(
        model,
        linear=Linear(weights[0], dense_weights, bias),
        memory=memory,
        training=rows,
        stats=dict(model.stats),
    )


def update(model: NluModel, added: Sequence[Example]) -> NluModel:
    """A model that also knows ``added``, ready in a second or two.

    A stop-gap between full trainings: the vocabulary, the n-gram weights,
    the calibration and the decline threshold stay as they are; the new
    phrases join the neighbour memory, the neighbour vote is switched on
    (``update_neighbour_weight``) and the embedding weights are
    warm-started on all rows (all weights, for a model without an encoder,
    where that is cheap). A new intent gets a column of its own. Run
    :func:`train` in the background afterwards and swap its model in;
    ``stats["provisional"]`` marks a model that should be replaced that way.

    Args:
        model: a model trained in this process (it keeps its training rows).
        added: the new phrases with their intents.

    Raises:
        NotTrained: the model was loaded from storage, without training rows.
    """
    if model.training is None:
        raise NotTrained(
            "This model was loaded from storage and holds no training rows; "
            "add phrases by training a new model."
        )
    if not added:
        return model
    started = time.perf_counter()
    classes = list(model.classes)
    classes += sorted({e.intent for e in added} - set(classes))
    index = {label: i for i, label in enumerate(classes)}
    analysed = [model.analyser.analyse(example.text) for example in added]
    dense_new = model.features.dense_part(model.encoder, analysed)
    old = model.training
    rows = TrainingRows(
        target=np.concatenate([old.target, [index[e.intent] for e in added]]),
        sparse_rows=sparse.vstack(
            [old.sparse_rows, model.features.sparse_part(analysed)], format="csr"
        ),
        dense_rows=np.vstack([old.dense_rows, dense_new])
        if old.dense_rows is not None and dense_new is not None
        else None,
    )
    widened = replace(model, classes=classes)
    # Limitation: the vote helps the added phrase but can cost a small
    # knowledge base accuracy elsewhere until the background retraining
    # replaces this model; a vote over the added phrases alone would not.
    config = replace(
        model.config,
        neighbour_weight=max(
            model.config.neighbour_weight, model.config.update_neighbour_weight
        ),
    )
    widened = replace(widened, config=config)
    updated = _fit_linear(widened, rows, iterations=config.update_iterations)
    updated.stats["provisional"] = 1.0
    updated.stats["update_seconds"] = time.perf_counter() - started
    log.info(
        "model updated: %d phrases added, %.2f s",
        len(added),
        updated.stats["update_seconds"],
    )
    return updated


def choose_policy(
    model: NluModel,
    examples: Sequence[Example],
    encoder: Encoder | None,
    dev: Sequence[Example] | None,
) -> tuple[float, Policy]:
    """Calibrate the confidence and choose the decline threshold.

    Both come from dev rows when given, else from cross-validation.

    Returns:
        The temperature and the policy with the chosen decline threshold.
    """
    if dev:
        logits = model.logits([example.text for example in dev])
        truth = [example.intent for example in dev]
        classes = model.classes
    else:
        logits, truth, classes = _cross_validated_logits(examples, encoder, model)
    if not truth:
        return 1.0, Policy()
    temperature = best_temperature(logits, truth, classes)
    scored = [model._scores_from(row) for row in _softmax(logits / temperature)]
    return temperature, Policy(decline=best_threshold(scored, truth))


def _cross_validated_logits(
    examples: Sequence[Example], encoder: Encoder | None, model: NluModel
) -> tuple[np.ndarray, list[str], list[str]]:
    config = model.config
    rng = np.random.default_rng(config.seed)
    folds = np.arange(len(examples)) % config.folds
    rng.shuffle(folds)
    blocks: list[np.ndarray] = []
    truth: list[str] = []
    for fold in range(config.folds):
        train_rows = [e for e, f in zip(examples, folds, strict=True) if f != fold]
        test_rows = [e for e, f in zip(examples, folds, strict=True) if f == fold]
        if not test_rows or len({e.intent for e in train_rows}) < 2:
            continue
        fold_model = fit(train_rows, encoder, config)
        fold_logits = fold_model.logits([e.text for e in test_rows])
        # A fold may miss a class; give it no vote rather than a column shift.
        aligned = np.full((len(test_rows), len(model.classes)), -1e4, np.float32)
        columns = [model.classes.index(label) for label in fold_model.classes]
        aligned[:, columns] = fold_logits
        blocks.append(aligned)
        truth.extend(e.intent for e in test_rows)
    if not blocks:
        return np.zeros((0, len(model.classes))), [], model.classes
    return np.vstack(blocks), truth, model.classes


def best_temperature(
    logits: np.ndarray, truth: Sequence[str], classes: Sequence[str]
) -> float:
    """The temperature that minimises the log-loss of held-out rows.

    Rows whose label the model does not know (e.g. ``oos`` without an
    ``oos`` class) are left out: they have no probability to calibrate.
    """
    index = {label: i for i, label in enumerate(classes)}
    known = [i for i, label in enumerate(truth) if label in index]
    if not known:
        return 1.0
    rows = logits[known]
    target = np.array([index[truth[i]] for i in known])
    grid = np.exp(np.linspace(np.log(0.05), np.log(20.0), 80))
    losses = [
        -_log_softmax(rows / t)[np.arange(len(target)), target].mean() for t in grid
    ]
    return float(grid[int(np.argmin(losses))])


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
    "best_temperature",
    "best_threshold",
    "examples_from_kb",
    "fit",
    "in_scope_only",
    "train",
    "update",
]
