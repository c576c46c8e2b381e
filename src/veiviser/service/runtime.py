"""The model in use, swapped atomically when a newer one is stored.

Every process polls the database for the newest ready model (there is no
other channel between processes) and replaces its in-memory model with one
reference assignment, so a request in flight finishes on the model it began
with.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from veiviser.dialogue import KnowledgeView
from veiviser.errors import NotTrained, VeiviserError
from veiviser.nlu import Encoder, NluModel, model_from_bytes
from veiviser.nlu.encoder import for_messages
from veiviser.store import model_versions
from veiviser.store.knowledge import read_knowledge_base

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """A loaded model and the knowledge base it answers from."""

    model: NluModel
    view: KnowledgeView
    model_version_id: int
    kb_revision: int


def encoder_label(encoder: Encoder | None) -> str:
    """The name models are stored under for this encoder."""
    return encoder.name if encoder is not None else "none"


def load_runtime(
    sessions: sessionmaker[Session],
    model_id: int,
    encoder: Encoder | None,
    handover_intent: str,
) -> Runtime:
    """Load a stored model and the current knowledge base.

    Raises:
        NotTrained: the model or the knowledge base is missing.
        ModelVersionMismatch: the model needs another encoder or format.
    """
    with sessions() as session:
        stored = model_versions.load_model(session, model_id)
        kb = read_knowledge_base(session)
    if stored is None or kb is None:
        raise NotTrained(f"Model {model_id} or the knowledge base is missing.")
    model = model_from_bytes(stored.data, for_messages(encoder))
    view = KnowledgeView(kb, handover_intent)
    return Runtime(model, view, stored.id, stored.kb_revision)


class ModelHolder:
    """Holds the runtime in use; reading it needs no lock."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self.current = runtime

    def require(self) -> Runtime:
        """The runtime in use.

        Raises:
            NotTrained: no model has been loaded yet.
        """
        runtime = self.current
        if runtime is None:
            raise NotTrained("No model is loaded yet.")
        return runtime


class ModelWatcher:
    """A daemon thread that loads newer models as other processes store them."""

    def __init__(
        self,
        holder: ModelHolder,
        sessions: sessionmaker[Session],
        encoder: Encoder | None,
        handover_intent: str,
        poll_seconds: float,
    ) -> None:
        self.holder = holder
        self.sessions = sessions
        self.encoder = encoder
        self.handover_intent = handover_intent
        self.poll_seconds = max(0.05, poll_seconds)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._swap_lock = threading.Lock()

    def start(self) -> None:
        """Start polling in the background."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name="veiviser-model-watcher", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and wait for the thread to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check()
            except (VeiviserError, OSError) as error:
                log.warning("could not load the newest model: %s", error)
            except Exception:
                # A database hiccup must not end the watcher; the next poll
                # tries again.
                log.exception("model watcher poll failed")

    def check(self) -> bool:
        """Load the newest ready model if it is newer than the one in use.

        Returns:
            Whether a newer model was swapped in.
        """
        # Limitation: only a newer model is noticed; a knowledge-base change
        # without retraining (texts alone) waits for `veiviser train`. Poll
        # kb_revision too when the admin pages edit texts in place.
        with self.sessions() as session:
            newest = model_versions.latest_ready_id(
                session, encoder_label(self.encoder)
            )
        current = self.holder.current
        if newest is None or (current and newest <= current.model_version_id):
            return False
        runtime = load_runtime(
            self.sessions, newest, self.encoder, self.handover_intent
        )
        with self._swap_lock:
            # The poller and the live trainer may both load; the newest wins.
            current = self.holder.current
            if current and runtime.model_version_id <= current.model_version_id:
                return False
            self.holder.current = runtime
        log.info(
            "model %d loaded (knowledge base revision %d)",
            runtime.model_version_id,
            runtime.kb_revision,
        )
        return True
