"""Trained models in the database, so every server process can load them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from veiviser.store.models import ModelVersion

READY = "ready"
FAILED = "failed"


@dataclass(frozen=True)
class StoredModel:
    """A ready model as stored: its id, knowledge-base revision and bytes."""

    id: int
    kb_revision: int
    encoder: str
    data: bytes


def save_model(
    session: Session,
    kb_revision: int,
    encoder: str,
    data: bytes,
    stats: dict[str, Any],
) -> int:
    """Store a ready model and return its id. The caller commits."""
    row = ModelVersion(
        kb_revision=kb_revision,
        encoder=encoder,
        stats=stats,
        data=data,
        status=READY,
    )
    session.add(row)
    session.flush()
    return row.id


def record_failure(session: Session, kb_revision: int, encoder: str, error: str) -> int:
    """Record a training attempt that failed, with its error. The caller commits."""
    row = ModelVersion(
        kb_revision=kb_revision, encoder=encoder, stats={}, status=FAILED, error=error
    )
    session.add(row)
    session.flush()
    return row.id


def latest_ready_id(session: Session, encoder: str | None = None) -> int | None:
    """The id of the newest ready model (for ``encoder``, when given)."""
    query = select(ModelVersion.id).where(ModelVersion.status == READY)
    if encoder is not None:
        query = query.where(ModelVersion.encoder == encoder)
    return session.scalar(query.order_by(ModelVersion.id.desc()).limit(1))


def ready_for_revision(session: Session, kb_revision: int, encoder: str) -> int | None:
    """The id of a ready model trained on this revision with this encoder."""
    return session.scalar(
        select(ModelVersion.id)
        .where(
            ModelVersion.status == READY,
            ModelVersion.kb_revision == kb_revision,
            ModelVersion.encoder == encoder,
        )
        .order_by(ModelVersion.id.desc())
        .limit(1)
    )


def load_model(session: Session, model_id: int) -> StoredModel | None:
    """A ready model's bytes, or None when there is no such ready model."""
    row = session.get(ModelVersion, model_id)
    if row is None or row.status != READY or row.data is None:
        return None
    return StoredModel(row.id, row.kb_revision, row.encoder, row.data)
