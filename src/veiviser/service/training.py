"""Training a model from the stored knowledge base and storing the result.

Several processes may start at once on an empty database; a training lease
makes sure one of them trains while the others wait and then load its model.

A stored model keeps the words of its training phrases (the analyser's
vocabulary). When an erasure removes phrases learnt from a conversation, the
next model is therefore trained fully, never updated from an older one, and
once it is stored every older model version is deleted.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, delete, select
from sqlalchemy import func as sql
from sqlalchemy.orm import Session, sessionmaker

from veiviser.content import KnowledgeBase
from veiviser.content.model import OUT_OF_SCOPE
from veiviser.errors import NotTrained, TrainingFailed, VeiviserError
from veiviser.nlu import (
    Encoder,
    Example,
    NluModel,
    TrainingConfig,
    examples_from_kb,
    model_to_bytes,
)
from veiviser.nlu import train as train_model
from veiviser.nlu.model import TrainingRows, update
from veiviser.service.runtime import Runtime, encoder_label
from veiviser.store import model_versions
from veiviser.store.knowledge import kb_revision, read_knowledge_base
from veiviser.store.models import ModelVersion, utc_now
from veiviser.store.models_trainer import ErasureLog

log = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock held while a process trains; the
# migration lock in store/migrations/env.py uses another one.
TRAINING_LOCK_KEY = 0x7665_6976_7472_6E01
# The time of a model that is no longer stored: older than any erasure.
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


@contextmanager
def training_lease(sessions: sessionmaker[Session]) -> Iterator[None]:
    """Hold the database-wide right to train, waiting while another holds it.

    PostgreSQL: a session-level advisory lock on a connection of its own.
    SQLite: an exclusive ``flock`` on a file beside the database, as every
    process of a SQLite database runs on its host. Either is released when
    the holder ends, even by a crash, so a dead trainer never blocks the
    others.
    """
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(select(sql.pg_advisory_lock(TRAINING_LOCK_KEY)))
            connection.commit()
            try:
                yield
            finally:
                connection.execute(select(sql.pg_advisory_unlock(TRAINING_LOCK_KEY)))
                connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # one connection, one process: nobody to wait for
        return
    with Path(f"{database}.training.lock").open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def train_and_store(
    sessions: sessionmaker[Session], encoder: Encoder | None, seed: int = 0
) -> int:
    """Train on the stored knowledge base and store the model as ready.

    A failure is recorded with its error, and the last good model stays the
    one that processes load. Holds the training lease while it trains.

    Returns:
        The new model's id.

    Raises:
        NotTrained: there is no knowledge base to train on.
        TrainingFailed: training could not produce a model.
    """
    with training_lease(sessions):
        return _train_and_store(sessions, encoder, seed)


def _train_and_store(
    sessions: sessionmaker[Session], encoder: Encoder | None, seed: int
) -> int:
    read_at = utc_now()
    with sessions() as session:
        kb = read_knowledge_base(session)
        revision = kb_revision(session)
    if kb is None:
        raise NotTrained("There is no knowledge base to train on; import one.")

    started = time.perf_counter()
    label = encoder_label(encoder)
    examples = examples_from_kb(kb)
    # A first start waits for this; say so, or the silence looks like a hang.
    log.info(
        "training a model on %d phrases (encoder %s); this can take several "
        "minutes on a small machine, and the service answers when it is done",
        len(examples),
        label,
    )
    try:
        model = train_model(examples, encoder, TrainingConfig(seed=seed))
        data = model_to_bytes(model)
    except VeiviserError as error:
        _record_failure(sessions, revision, label, error.message)
        raise TrainingFailed(error.message, details=error.details) from error
    except (ValueError, ArithmeticError) as error:
        _record_failure(sessions, revision, label, str(error))
        raise TrainingFailed(f"Training failed: {error}") from error

    stats = {
        "intents": len(kb.active_intents()),
        "phrases": len(examples),
        "seconds": round(time.perf_counter() - started, 2),
        "decline_threshold": model.policy.decline,
    }
    with sessions.begin() as session:
        model_id = model_versions.save_model(session, revision, label, data, stats)
    log.info(
        "model %d stored: %d intents, %d phrases, %.2f s, encoder %s",
        model_id,
        stats["intents"],
        stats["phrases"],
        stats["seconds"],
        label,
    )
    delete_models_older_than_erasure(sessions, model_id, read_at)
    return model_id


def _record_failure(
    sessions: sessionmaker[Session], revision: int, label: str, error: str
) -> None:
    with sessions.begin() as session:
        model_versions.record_failure(session, revision, label, error)
    log.error("training on knowledge base revision %d failed: %s", revision, error)


def ensure_model(
    sessions: sessionmaker[Session], encoder: Encoder | None, seed: int = 0
) -> int:
    """The id of a ready model for the current knowledge base, training if needed.

    When training fails, the newest older model is used if there is one.

    Raises:
        TrainingFailed: training failed and there is no older model.
    """
    existing = usable_model(sessions, encoder)
    if existing is not None:
        return existing
    try:
        with training_lease(sessions):
            # Another process may have trained this revision while we waited.
            existing = usable_model(sessions, encoder)
            if existing is not None:
                log.info("model %d was trained by another process", existing)
                return existing
            return _train_and_store(sessions, encoder, seed)
    except TrainingFailed:
        with sessions() as session:
            fallback = model_versions.latest_ready_id(session, encoder_label(encoder))
        if fallback is None:
            raise
        log.warning("using the last good model %d", fallback)
        return fallback


def erasure_pending(sessions: sessionmaker[Session]) -> bool:
    """Whether a stored model was made before the newest erasure of phrases.

    Such a model may hold the erased words; until a full training replaces
    it, no model is updated from an older one.
    """
    with sessions() as session:
        erased_at = _newest_phrase_erasure(session)
        if erased_at is None:
            return False
        made_before = select(ModelVersion.id).where(
            ModelVersion.created_at <= erased_at
        )
        return session.scalar(made_before.limit(1)) is not None


# Limitation: erasure and training are ordered by their clocks. A full
# training in another process that read the knowledge base just before an
# erasure committed, or a provisional model another process updates from the
# model it still holds, can store the erased words after the old models were
# deleted. Recording the knowledge-base revision in the erasure log would let
# the models trained on an earlier revision be found and deleted exactly.
# Limitation: deleting a model version sets `message.model_version_id` to
# NULL for the messages it answered, through a foreign key without an index;
# on PostgreSQL with many messages and many stored models this is one table
# scan per model. An index on that column would retire this.
def delete_models_older_than_erasure(
    sessions: sessionmaker[Session], model_id: int, read_at: datetime
) -> int:
    """Delete the models stored before ``model_id`` if an erasure left them stale.

    Only a model trained fully on a knowledge base read after the newest
    erasure of phrases (at ``read_at``) replaces them.

    Returns:
        How many model versions were deleted.
    """
    with sessions.begin() as session:
        erased_at = _newest_phrase_erasure(session)
        if erased_at is None or erased_at >= read_at:
            return 0
        stale = session.scalar(
            select(ModelVersion.id)
            .where(ModelVersion.id < model_id, ModelVersion.created_at <= erased_at)
            .limit(1)
        )
        if stale is None:
            return 0
        deleted = session.execute(
            delete(ModelVersion).where(ModelVersion.id < model_id)
        ).rowcount
    log.info("deleted %d model versions made before an erasure", deleted)
    return deleted


def _erased_since(sessions: sessionmaker[Session], moment: datetime) -> bool:
    with sessions() as session:
        erased_at = _newest_phrase_erasure(session)
    return erased_at is not None and erased_at >= moment


def _newest_phrase_erasure(session: Session) -> datetime | None:
    return session.scalar(select(sql.max(ErasureLog.at)).where(ErasureLog.phrases > 0))


def usable_model(
    sessions: sessionmaker[Session], encoder: Encoder | None
) -> int | None:
    """The id of a ready model for the current knowledge base, without training.

    None when there is none, or when an erasure of phrases since it was
    stored means the next model must be trained anew.
    """
    with sessions() as session:
        revision = kb_revision(session)
        ready = model_versions.ready_for_revision(
            session, revision, encoder_label(encoder)
        )
    if ready is None or erasure_pending(sessions):
        return None
    return ready


@dataclass(frozen=True)
class _Base:
    """A model this process can update: it holds its training rows.

    ``made_at`` is when the knowledge base its vocabulary comes from was read
    (or, for a model loaded from the database, when it was stored); a base
    older than an erasure of phrases may hold the erased words.
    """

    model: NluModel
    examples: tuple[Example, ...]
    made_at: datetime


def with_training_rows(model: NluModel, examples: Sequence[Example]) -> NluModel:
    """A stored model given back the training rows of ``examples``.

    A model loaded from the database has no rows; they are rebuilt with the
    model's own vocabulary and the (cached) embeddings, so that
    :func:`veiviser.nlu.model.update` can teach it new phrases in a second.
    Examples of intents the model does not know are left out.
    """
    index = {label: i for i, label in enumerate(model.classes)}
    known = [example for example in examples if example.intent in index]
    analysed = [model.analyser.analyse(example.text) for example in known]
    rows = TrainingRows(
        target=np.array([index[example.intent] for example in known]),
        sparse_rows=model.features.sparse_part(analysed),
        dense_rows=model.features.dense_part(model.encoder, analysed),
    )
    return replace(model, training=rows)


def _difference(
    new: Sequence[Example], old: Sequence[Example]
) -> tuple[list[Example], list[Example]]:
    """(added, removed) between two lists of examples, counting repeats."""
    added = Counter(new) - Counter(old)
    removed = Counter(old) - Counter(new)
    return list(added.elements()), list(removed.elements())


def provisional_model(runtime: Runtime, kb: KnowledgeBase) -> NluModel:
    """The provisional model :class:`LiveTrainer` would make live for ``kb``.

    Made in memory and not stored, so a change can be judged before it is
    saved: the phrases ``kb`` adds to the model in use are taught with
    :func:`veiviser.nlu.model.update`; removed phrases stay learnt, as in the
    trainer's own provisional model.

    Raises:
        VeiviserError: the quick update is impossible (a full training is).
    """
    base = examples_from_kb(runtime.view.kb)
    added, _ = _difference(examples_from_kb(kb), base)
    if not added:
        return runtime.model
    return update(with_training_rows(runtime.model, base), added)


class LiveTrainer:
    """Makes an edit live in seconds, then retrains fully in the background.

    ``request`` returns at once; a daemon thread does the rest:

    1. **Provisional model, in seconds.** From the model in use (its training
       rows rebuilt once from the cached embeddings), the phrases that were
       added are taught with :func:`veiviser.nlu.model.update`; an edit that
       changed no phrase (an answer, a button, a title) reuses the model as
       it is. The result is stored for the new knowledge-base revision, so
       every process loads it, and swapped in here at once.
    2. **Full training, in the background**, when phrases changed: a new
       vocabulary, calibration and decline threshold. If the knowledge base
       changed meanwhile, the newer phrases are taught to the fresh model
       before it is stored, so a later edit is never undone.

    Edits that arrive meanwhile coalesce. A failure is stored with its error
    (the page shows it) and the last good model stays in use.

    Args:
        sessions: the database.
        encoder: the encoder models are trained with.
        seed: the training seed.
        current: the runtime in use in this process.
        on_trained: called after a model was stored (swaps it in here).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        encoder: Encoder | None,
        seed: int,
        current: Callable[[], Runtime | None],
        on_trained: Callable[[], object],
    ) -> None:
        self.sessions = sessions
        self.encoder = encoder
        self.seed = seed
        self.current = current
        self.on_trained = on_trained
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._base: _Base | None = None
        self._full_wanted = False
        self.busy = False

    # Limitation: every edit stores a whole new model and old ones are pruned
    # only after an erasure; keep the last few per encoder once the table
    # grows large.
    def request(self) -> None:
        """Ask for a model of the newest knowledge base; never blocks."""
        self._wanted.set()
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="veiviser-live-trainer", daemon=True
                )
                self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Let the work in flight finish, then end the thread."""
        self._stopping.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float, *, full: bool = False) -> bool:
        """Wait until no edit waits to go live (and, with ``full``, no training).

        For tools and tests; returns whether that happened within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = self._wanted.is_set() or self.busy
            if not pending and not (full and self._full_wanted):
                return True
            time.sleep(0.02)
        return False

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._wanted.wait(timeout=0.2) and not self._full_wanted:
                continue
            self.busy = True
            try:
                if self._wanted.is_set():
                    self._wanted.clear()
                    self._make_live()
                elif not self._stopping.is_set():
                    self._full_wanted = False
                    self._train_fully()
            except TrainingFailed:
                pass  # stored with its error; the page shows it
            except Exception:
                # The thread must survive a database hiccup; the next edit
                # asks again.
                log.exception("training after an edit failed")
            finally:
                self.busy = False

    def _newest(self) -> tuple[KnowledgeBase | None, int]:
        with self.sessions() as session:
            return read_knowledge_base(session), kb_revision(session)

    def _make_live(self) -> None:
        kb, revision = self._newest()
        label = encoder_label(self.encoder)
        with self.sessions() as session:
            ready = model_versions.ready_for_revision(session, revision, label)
        pending = erasure_pending(self.sessions)
        if kb is None or (ready is not None and not pending):
            self.on_trained()
            return
        if pending:
            # The model in use may hold erased words: no quick update from it.
            self._base = None
            train_and_store(self.sessions, self.encoder, self.seed)
            self.on_trained()
            return
        examples = examples_from_kb(kb)
        base = self._base or self._base_from_runtime()
        if base is None or not self._store_provisional(base, examples, revision):
            self._base = None
            train_and_store(self.sessions, self.encoder, self.seed)
        self.on_trained()

    def _base_from_runtime(self) -> _Base | None:
        runtime = self.current()
        if runtime is None:
            return None
        examples = examples_from_kb(runtime.view.kb)
        with self.sessions() as session:
            row = session.get(ModelVersion, runtime.model_version_id)
            # A model no longer stored was deleted after an erasure.
            made_at = row.created_at if row is not None else _LONG_AGO
        return _Base(
            with_training_rows(runtime.model, examples), tuple(examples), made_at
        )

    def _store_provisional(
        self, base: _Base, examples: list[Example], revision: int
    ) -> bool:
        in_scope = {e.intent for e in examples} - {OUT_OF_SCOPE}
        if not in_scope:
            return False  # nothing to answer with: training says why
        if _erased_since(self.sessions, base.made_at):
            return False  # the base may hold erased words: train afresh
        added, removed = _difference(examples, base.examples)
        started = time.perf_counter()
        try:
            model = update(base.model, added) if added else base.model
        except (VeiviserError, ValueError, ArithmeticError) as error:
            log.warning("no quick update (%s); training fully", error)
            return False
        stats = {
            **model.stats,
            "provisional": 1.0,
            "added": len(added),
            "removed": len(removed),
            "seconds": round(time.perf_counter() - started, 2),
        }
        self._save(revision, model, stats)
        self._base = _Base(model, tuple(examples), base.made_at)
        # Removed phrases and a new vocabulary need a real training.
        self._full_wanted = self._full_wanted or bool(added or removed)
        return True

    def _save(self, revision: int, model: NluModel, stats: dict) -> int:
        data = model_to_bytes(model)
        with self.sessions.begin() as session:
            model_id = model_versions.save_model(
                session, revision, encoder_label(self.encoder), data, stats
            )
        log.info(
            "model %d stored for knowledge base revision %d (provisional: %s)",
            model_id,
            revision,
            bool(stats.get("provisional")),
        )
        return model_id

    def _train_fully(self) -> None:
        read_at = utc_now()
        kb, revision = self._newest()
        if kb is None:
            return
        examples = examples_from_kb(kb)
        label = encoder_label(self.encoder)
        started = time.perf_counter()
        with training_lease(self.sessions):
            try:
                model = train_model(
                    examples, self.encoder, TrainingConfig(seed=self.seed)
                )
            except VeiviserError as error:
                _record_failure(self.sessions, revision, label, error.message)
                raise TrainingFailed(error.message, details=error.details) from error
        stats = {**model.stats, "seconds": round(time.perf_counter() - started, 2)}
        newer_kb, newer_revision = self._newest()
        if newer_revision != revision and newer_kb is not None:
            # Edits arrived while training: teach them to the fresh model,
            # which stays provisional until the next full training.
            self._store_provisional(
                _Base(model, tuple(examples), read_at),
                examples_from_kb(newer_kb),
                newer_revision,
            )
        else:
            model_id = self._save(revision, model, stats)
            self._base = _Base(model, tuple(examples), read_at)
            delete_models_older_than_erasure(self.sessions, model_id, read_at)
        self.on_trained()
