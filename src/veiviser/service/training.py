"""Training a model from the stored knowledge base and storing the result."""

from __future__ import annotations

import logging
import time

from sqlalchemy.orm import Session, sessionmaker

from veiviser.errors import NotTrained, TrainingFailed, VeiviserError
from veiviser.nlu import Encoder, TrainingConfig, examples_from_kb, model_to_bytes
from veiviser.nlu import train as train_model
from veiviser.service.runtime import encoder_label
from veiviser.store import model_versions
from veiviser.store.knowledge import kb_revision, read_knowledge_base

log = logging.getLogger(__name__)


def train_and_store(
    sessions: sessionmaker[Session], encoder: Encoder | None, seed: int = 0
) -> int:
    """Train on the stored knowledge base and store the model as ready.

    A failure is recorded with its error, and the last good model stays the
    one that processes load.

    Returns:
        The new model's id.

    Raises:
        NotTrained: there is no knowledge base to train on.
        TrainingFailed: training could not produce a model.
    """
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
    with sessions() as session:
        revision = kb_revision(session)
        existing = model_versions.ready_for_revision(session, revision, label)
    if existing is not None:
        return existing
    try:
        return train_and_store(sessions, encoder, seed)
    except TrainingFailed:
        with sessions() as session:
            fallback = model_versions.latest_ready_id(session, label)
        if fallback is None:
            raise
        log.warning("using the last good model %d", fallback)
        return fallback
