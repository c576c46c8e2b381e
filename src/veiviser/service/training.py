"""Training a model from the stored knowledge base and storing the result.

Several processes may start at once on an empty database; a training lease
makes sure one of them trains while the others wait and then load its model.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy import func as sql
from sqlalchemy.orm import Session, sessionmaker

from veiviser.errors import NotTrained, TrainingFailed, VeiviserError
from veiviser.nlu import Encoder, TrainingConfig, examples_from_kb, model_to_bytes
from veiviser.nlu import train as train_model
from veiviser.service.runtime import encoder_label
from veiviser.store import model_versions
from veiviser.store.knowledge import kb_revision, read_knowledge_base

log = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock held while a process trains; the
# migration lock in store/migrations/env.py uses another one.
TRAINING_LOCK_KEY = 0x7665_6976_7472_6E01


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
    with sessions() as session:
        kb = read_knowledge_base(session)
        revision = kb_revision(session)
    if kb is None:
        raise NotTrained("There is no knowledge base to train on; import one.")

    started = time.perf_counter()
    label = encoder_label(encoder)
    examples = examples_from_kb(kb)
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
    label = encoder_label(encoder)
    existing = _ready_for_current(sessions, label)
    if existing is not None:
        return existing
    try:
        with training_lease(sessions):
            # Another process may have trained this revision while we waited.
            existing = _ready_for_current(sessions, label)
            if existing is not None:
                log.info("model %d was trained by another process", existing)
                return existing
            return _train_and_store(sessions, encoder, seed)
    except TrainingFailed:
        with sessions() as session:
            fallback = model_versions.latest_ready_id(session, label)
        if fallback is None:
            raise
        log.warning("using the last good model %d", fallback)
        return fallback


def _ready_for_current(sessions: sessionmaker[Session], label: str) -> int | None:
    with sessions() as session:
        revision = kb_revision(session)
        return model_versions.ready_for_revision(session, revision, label)


class LiveTrainer:
    """Trains in a background thread whenever the knowledge base is edited.

    ``request`` returns at once. Edits that arrive while a training runs are
    coalesced into one more training afterwards, which sees all of them.
    After each model is stored, ``on_trained`` runs (the process swaps the
    model in at once instead of waiting for its next poll); other processes
    find the model in the database. A failed training is stored with its
    error, and the last good model stays in use.

    Args:
        sessions: the database.
        encoder: the encoder the model is trained with.
        seed: the training seed.
        on_trained: called after a model was stored.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        encoder: Encoder | None,
        seed: int,
        on_trained: Callable[[], object],
    ) -> None:
        self.sessions = sessions
        self.encoder = encoder
        self.seed = seed
        self.on_trained = on_trained
        self._wanted = threading.Event()
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.busy = False

    # Limitation: every edit stores a whole new model and old ones are never
    # pruned; keep the last few per encoder once the table grows large. The
    # review queue's LiveTraining (service/review.py) does the same job in a
    # second thread; merge the two into this one.
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
        """Let a training in flight finish, then end the thread."""
        self._stopping.set()
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout)

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
            if not self._wanted.wait(timeout=5):
                continue
            self.busy = True
            self._wanted.clear()
            try:
                self._train_newest()
            except TrainingFailed:
                pass  # stored with its error; the page shows it
            except Exception:
                # The thread must survive a database hiccup; the next edit
                # asks again.
                log.exception("training after an edit failed")
            finally:
                self.busy = False

    def _train_newest(self) -> None:
        label = encoder_label(self.encoder)
        with self.sessions() as session:
            revision = kb_revision(session)
            ready = model_versions.ready_for_revision(session, revision, label)
        if ready is None:
            train_and_store(self.sessions, self.encoder, self.seed)
        self.on_trained()
