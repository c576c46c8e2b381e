"""Intent health: how well each intent is learnt, and what confuses the model.

:func:`compute_health` is pure: from a knowledge base and the encoder in use
it cross-validates the classifier (each phrase is predicted by a model that
never saw it) and measures the phrases themselves:

- per-intent **precision and recall** over k folds, stratified by intent;
- the **most confused pairs** of intents, with the phrases that went astray;
- intents with **too few phrases** (fewer than ``MIN_PHRASES``);
- **near-duplicate phrases** within an intent, and pairs of intents whose
  phrase sets **overlap** (share many near duplicates).

The cost is k trainings without calibration; a knowledge base of more than
``LARGE_BASE`` phrases gets fewer folds and fewer optimiser iterations, and
the report says which configuration was used.

:class:`HealthWorker` recomputes in a background thread after edits
(debounced, never blocking a save) and stores each result in the database
with its knowledge-base revision, so every process shows the newest. A lease
(:func:`health_lease`) keeps two processes from computing at once; the one
that finds the lease taken tries again later, until a result for the current
revision exists.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process
from sqlalchemy import Engine, event, select
from sqlalchemy import func as sql
from sqlalchemy.orm import Session, sessionmaker

from veiviser.content import KnowledgeBase
from veiviser.content.model import OUT_OF_SCOPE
from veiviser.errors import VeiviserError
from veiviser.nlu import Encoder, Example, TrainingConfig, examples_from_kb
from veiviser.nlu.model import fit
from veiviser.service.conflicts import NEAR_DUPLICATE, matching_form
from veiviser.service.runtime import encoder_label
from veiviser.store.knowledge import kb_revision, read_knowledge_base
from veiviser.store.models_health import HealthResult

log = logging.getLogger(__name__)

MIN_PHRASES = 25
# Within one intent only near-identical phrases are worth a word: variants
# of one question are good training data.
WITHIN_DUPLICATE = 92.0
# Share of two intents' phrases that have a near duplicate in the other.
HEAVY_OVERLAP = 0.3
LARGE_BASE = 2_000
FOLDS = 5
LARGE_BASE_FOLDS = 3
LARGE_BASE_ITERATIONS = 60
MAX_LISTED = 30
EXAMPLES_PER_PAIR = 3
# PostgreSQL advisory lock key of the health computation (training uses
# another, see service/training.py).
HEALTH_LOCK_KEY = 0x7665_6976_6865_6C01
READY = "ready"
FAILED = "failed"
DISPOSE_WAIT_SECONDS = 10.0


# --- The computation ------------------------------------------------------------


def compute_health(
    kb: KnowledgeBase, encoder: Encoder | None, seed: int = 0
) -> dict[str, Any]:
    """Cross-validated figures and phrase checks for the active intents.

    Args:
        kb: the knowledge base.
        encoder: the encoder models are trained with (None: n-grams only).
        seed: seeds the folds and the classifier.

    Returns:
        A JSON-ready report: ``method`` (folds, iterations, phrases),
        ``intents`` (id, phrases, precision, recall), ``confused``,
        ``too_few``, ``near_duplicates``, ``overlaps``; intents are named by
        id (titles are looked up when shown, so a renamed intent reads right).
    """
    active = kb.active_intents()
    examples = examples_from_kb(kb)
    large = len(examples) > LARGE_BASE
    config = TrainingConfig(
        seed=seed,
        max_iter=LARGE_BASE_ITERATIONS if large else TrainingConfig.max_iter,
    )
    folds = LARGE_BASE_FOLDS if large else FOLDS
    predicted = _cross_validated(examples, encoder, config, folds)
    forms = {intent.id: [matching_form(p) for p in intent.phrases] for intent in active}
    return {
        "method": {
            "folds": folds,
            "max_iter": config.max_iter,
            "phrases": len(examples),
            "reduced": large,
            "encoder": encoder_label(encoder),
        },
        "intents": _per_intent(active, examples, predicted),
        "confused": _confused_pairs(examples, predicted),
        "too_few": [
            {"id": i.id, "phrases": len(i.phrases)}
            for i in active
            if len(i.phrases) < MIN_PHRASES
        ],
        "near_duplicates": _within_duplicates(active, forms),
        "overlaps": _overlaps(active, forms),
    }


def _fold_of_each(examples: Sequence[Example], folds: int, seed: int) -> np.ndarray:
    """Stratified folds: each intent's phrases are dealt round the folds."""
    rng = np.random.default_rng(seed)
    assigned = np.zeros(len(examples), dtype=int)
    by_label: dict[str, list[int]] = defaultdict(list)
    for index, example in enumerate(examples):
        by_label[example.intent].append(index)
    for label in sorted(by_label):
        indices = rng.permutation(by_label[label])
        start = int(rng.integers(folds))
        for position, index in enumerate(indices):
            assigned[index] = (start + position) % folds
    return assigned


def _cross_validated(
    examples: Sequence[Example],
    encoder: Encoder | None,
    config: TrainingConfig,
    folds: int,
) -> list[str | None]:
    """The label a model that never saw it gives each example (None: untested)."""
    predicted: list[str | None] = [None] * len(examples)
    assigned = _fold_of_each(examples, folds, config.seed)
    for fold in range(folds):
        train_rows = [e for e, f in zip(examples, assigned, strict=True) if f != fold]
        test_at = [i for i, f in enumerate(assigned) if f == fold]
        if not test_at or len({e.intent for e in train_rows}) < 2:
            continue
        model = fit(train_rows, encoder, config)
        logits = model.logits([examples[i].text for i in test_at])
        for index, row in zip(test_at, logits, strict=True):
            predicted[index] = model.classes[int(np.argmax(row))]
    return predicted


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _per_intent(
    active: Sequence, examples: Sequence[Example], predicted: Sequence[str | None]
) -> list[dict[str, Any]]:
    tested = [(e, p) for e, p in zip(examples, predicted, strict=True) if p]
    support = Counter(e.intent for e, _ in tested)
    guessed = Counter(p for p in predicted if p is not None)
    hits = Counter(
        e.intent for e, p in zip(examples, predicted, strict=True) if e.intent == p
    )
    rows = [
        {
            "id": intent.id,
            "phrases": len(intent.phrases),
            "precision": _ratio(hits[intent.id], guessed[intent.id]),
            "recall": _ratio(hits[intent.id], support[intent.id]),
        }
        for intent in active
    ]
    # Weakest first: what the editor should look at comes to the top.
    return sorted(rows, key=lambda r: (r["recall"] or 0) + (r["precision"] or 0))


def _confused_pairs(
    examples: Sequence[Example], predicted: Sequence[str | None]
) -> list[dict[str, Any]]:
    counts: Counter[tuple[str, str]] = Counter()
    samples: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for example, guess in zip(examples, predicted, strict=True):
        truth = example.intent
        if guess is None or guess == truth or OUT_OF_SCOPE in (truth, guess):
            continue
        pair = (min(truth, guess), max(truth, guess))
        counts[pair] += 1
        if len(samples[pair]) < EXAMPLES_PER_PAIR:
            samples[pair].append(
                {"text": example.text, "intent": truth, "predicted": guess}
            )
    return [
        {"a": a, "b": b, "count": count, "examples": samples[(a, b)]}
        for (a, b), count in counts.most_common(MAX_LISTED)
    ]


def _within_duplicates(
    active: Sequence, forms: dict[str, list[str]]
) -> list[dict[str, Any]]:
    found = []
    for intent in active:
        own = forms[intent.id]
        if len(own) < 2:
            continue
        scores = process.cdist(
            own, own, scorer=fuzz.token_sort_ratio, score_cutoff=WITHIN_DUPLICATE
        )
        for i, j in zip(*np.nonzero(np.triu(scores, k=1)), strict=True):
            found.append(
                {
                    "intent": intent.id,
                    "a": intent.phrases[i],
                    "b": intent.phrases[j],
                    "score": round(float(scores[i, j])),
                }
            )
    found.sort(key=lambda d: -d["score"])
    return found[:MAX_LISTED]


def _overlaps(active: Sequence, forms: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Pairs of intents where many phrases have a near duplicate in the other."""
    owners = [intent.id for intent in active for _ in forms[intent.id]]
    everything = [form for intent in active for form in forms[intent.id]]
    if not everything:
        return []
    owner_index = np.array(owners)
    # matched[(a, b)]: phrases of a with a near duplicate among b's.
    matched: Counter[tuple[str, str]] = Counter()
    # Limitation: one intent's phrases against all phrases, intent by intent:
    # O(phrases²) comparisons (about a minute at 12,000 phrases); block by
    # shared words first if bases grow far beyond that.
    for intent in active:
        if not forms[intent.id]:
            continue
        scores = process.cdist(
            forms[intent.id],
            everything,
            scorer=fuzz.token_sort_ratio,
            score_cutoff=NEAR_DUPLICATE,
        )
        for row in scores:
            for other in set(owner_index[np.nonzero(row)[0]]) - {intent.id}:
                matched[(intent.id, str(other))] += 1
    sizes = {intent.id: len(forms[intent.id]) for intent in active}
    found = []
    for a, b in {tuple(sorted(pair)) for pair in matched}:
        shared = matched[(a, b)] + matched[(b, a)]
        share = shared / (sizes[a] + sizes[b])
        if share >= HEAVY_OVERLAP:
            found.append({"a": a, "b": b, "share": round(share, 4), "shared": shared})
    found.sort(key=lambda d: -d["share"])
    return found[:MAX_LISTED]


def fingerprint(kb: KnowledgeBase, encoder: Encoder | None) -> str:
    """What the figures depend on: active phrases, declines and the encoder.

    An edit of an answer or a title leaves it unchanged, and the last
    result is carried over to the new revision without computing.
    """
    data = {
        "intents": [[i.id, list(i.phrases)] for i in kb.active_intents()],
        "declines": list(kb.decline_examples),
        "encoder": encoder_label(encoder),
    }
    encoded = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()


# --- Storage and the lease --------------------------------------------------------


@dataclass(frozen=True)
class HealthView:
    """What the page shows: the newest figures and whether newer ones are due.

    Attributes:
        report: the newest ready report, or None before the first.
        report_revision: the knowledge-base revision ``report`` is about.
        computed_at: when ``report`` was computed.
        seconds: how long that took.
        error: why the newest attempt failed, when it did.
        attempted_revision: the revision of the newest attempt (ready or not).
        current_revision: the knowledge base's revision now.
    """

    report: dict[str, Any] | None
    report_revision: int | None
    computed_at: datetime | None
    seconds: float | None
    error: str | None
    attempted_revision: int | None
    current_revision: int

    @property
    def pending(self) -> bool:
        """Whether figures for the current revision are still being computed."""
        attempted = self.attempted_revision
        return attempted is None or attempted < self.current_revision


def read_health(sessions: sessionmaker[Session], encoder: str) -> HealthView:
    """The newest ready result, and the error of a newer failed attempt."""
    with sessions() as session:
        current = kb_revision(session)
        newest = _newest(session, encoder)
        ready = _newest(session, encoder, READY)
    failed = newest is not None and newest.status == FAILED
    return HealthView(
        report=ready.report if ready else None,
        report_revision=ready.kb_revision if ready else None,
        computed_at=ready.computed_at if ready else None,
        seconds=ready.seconds if ready else None,
        error=newest.error if failed and newest else None,
        attempted_revision=newest.kb_revision if newest else None,
        current_revision=current,
    )


def _newest(
    session: Session, encoder: str, status: str | None = None
) -> HealthResult | None:
    query = select(HealthResult).where(HealthResult.encoder == encoder)
    if status is not None:
        query = query.where(HealthResult.status == status)
    return session.scalars(query.order_by(HealthResult.id.desc()).limit(1)).first()


def is_stale(sessions: sessionmaker[Session], encoder: str) -> bool:
    """Whether no result (ready or failed) exists for the current revision."""
    with sessions() as session:
        current = kb_revision(session)
        done = session.scalar(
            select(sql.max(HealthResult.kb_revision)).where(
                HealthResult.encoder == encoder
            )
        )
    return current > 0 and (done is None or done < current)


@contextmanager
def health_lease(sessions: sessionmaker[Session]) -> Iterator[bool]:
    """Try to take the database-wide right to compute health; never waits.

    Yields whether it was taken. PostgreSQL: a session-level advisory lock on
    a connection of its own; SQLite: a non-blocking ``flock`` on a file beside
    the database. Both end with their holder, even by a crash.
    """
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            taken = connection.execute(
                select(sql.pg_try_advisory_lock(HEALTH_LOCK_KEY))
            ).scalar()
            connection.commit()
            try:
                yield bool(taken)
            finally:
                if taken:
                    connection.execute(select(sql.pg_advisory_unlock(HEALTH_LOCK_KEY)))
                    connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    with Path(f"{database}.health.lock").open("a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def refresh_health(
    sessions: sessionmaker[Session], encoder: Encoder | None, seed: int = 0
) -> bool:
    """Compute and store health for the current revision, unless it exists.

    Returns:
        False when another process holds the lease (try again later); True
        when a result for the current revision is stored (by anyone).
    """
    label = encoder_label(encoder)
    with health_lease(sessions) as taken:
        if not taken:
            return False
        with sessions() as session:
            kb = read_knowledge_base(session)
            revision = kb_revision(session)
        if kb is None or not is_stale(sessions, label):
            return True
        _compute_and_store(sessions, kb, revision, encoder, seed)
    return True


def _compute_and_store(
    sessions: sessionmaker[Session],
    kb: KnowledgeBase,
    revision: int,
    encoder: Encoder | None,
    seed: int,
) -> None:
    label = encoder_label(encoder)
    marker = fingerprint(kb, encoder)
    with sessions() as session:
        last = _newest(session, label, READY)
    started = time.perf_counter()
    if last is not None and (last.report or {}).get("fingerprint") == marker:
        report, status, error = last.report, READY, None
    else:
        try:
            report = {**compute_health(kb, encoder, seed), "fingerprint": marker}
            status, error = READY, None
        except (VeiviserError, ValueError, ArithmeticError) as failure:
            report, status, error = None, FAILED, str(failure)[:2000]
    seconds = round(time.perf_counter() - started, 2)
    if report is not None and last is not None and report is last.report:
        seconds = last.seconds  # carried over: what computing it cost
    with sessions.begin() as session:
        session.add(
            HealthResult(
                kb_revision=revision,
                encoder=label,
                status=status,
                seconds=seconds,
                report=report,
                error=error,
            )
        )
    log.info(
        "intent health for knowledge base revision %d: %s in %.2f s",
        revision,
        status,
        seconds,
    )


# --- The background worker ------------------------------------------------------


class HealthWorker:
    """Recomputes intent health in a daemon thread after edits.

    ``request`` returns at once. The thread waits ``debounce`` seconds so a
    burst of edits gives one computation, then computes until a result for
    the current revision is stored; when another process holds the lease it
    looks again every ``retry`` seconds (that process may finish an older
    revision, and this one then computes the newest).

    Args:
        sessions: the database.
        encoder: the encoder in use.
        seed: the training seed.
        debounce: seconds to wait after the last request.
        retry: seconds between attempts while the lease is taken.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        encoder: Encoder | None,
        seed: int = 0,
        debounce: float = 5.0,
        retry: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.encoder = encoder
        self.seed = seed
        self.debounce = debounce
        self.retry = retry
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.busy = False
        # Closing the database (the process shutting down) ends the thread
        # before it would wake up to a database that is gone.
        event.listen(sessions.kw["bind"], "engine_disposed", self._on_disposed)

    def _on_disposed(self, engine: Engine) -> None:
        self._stopping.set()
        self._wanted.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            # Let a computation in flight release its connection before the
            # database goes; a long one is abandoned (the thread is a daemon).
            thread.join(DISPOSE_WAIT_SECONDS)

    def request(self) -> None:
        """Ask for figures of the newest knowledge base; never blocks."""
        self._wanted.set()
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._run, name="veiviser-health", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 60) -> None:
        """Let the computation in flight finish, then end the thread."""
        self._stopping.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the thread is alive (it ends when the database is closed)."""
        return self._thread is not None and self._thread.is_alive()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is wanted or running (for tools and tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._wanted.is_set() and not self.busy:
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._wanted.wait(timeout=0.5):
                continue
            self.busy = True
            try:
                # Edits that arrive while waiting make the wait start over.
                while self._wanted.is_set() and not self._stopping.is_set():
                    self._wanted.clear()
                    self._stopping.wait(self.debounce)
                self._until_current()
            except Exception:
                # The thread must survive a database hiccup; the next edit
                # or page view asks again.
                log.exception("computing intent health failed")
            finally:
                self.busy = False

    def _until_current(self) -> None:
        label = encoder_label(self.encoder)
        while not self._stopping.is_set() and is_stale(self.sessions, label):
            if not refresh_health(self.sessions, self.encoder, self.seed):
                self._stopping.wait(self.retry)
