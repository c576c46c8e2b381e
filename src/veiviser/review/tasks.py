"""Tasks: a message or a cluster handed to a colleague with a note.

A task points to member messages; when they are deleted (retention,
erasure) the task keeps its note and loses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from veiviser.errors import InvalidInput, NotFound
from veiviser.store.conversations import MEMBER
from veiviser.store.models import Message, utc_now
from veiviser.store.models_admin import StaffAccount
from veiviser.store.models_trainer import ReviewTask, ReviewTaskMessage

MAX_NOTE_CHARS = 1000
STATUSES = ("open", "done")


class TaskInvalid(InvalidInput):
    """A task's assignee, note or status is not acceptable."""

    code = "task_invalid"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, details={"reason": reason})
        self.reason = reason


@dataclass(frozen=True)
class TaskMessage:
    """A message a task is about."""

    message_id: int
    conversation_id: str
    text: str


@dataclass(frozen=True)
class TaskView:
    """A task as the task list shows it."""

    id: int
    assignee: str
    created_by: str | None
    note: str
    status: str
    created_at: datetime
    updated_at: datetime
    messages: tuple[TaskMessage, ...]


def create_task(
    session: Session,
    creator_id: int,
    assignee_id: int,
    message_ids: Sequence[int],
    note: str,
) -> int:
    """Store a new open task; returns its id.

    Raises:
        TaskInvalid: the assignee is unknown or inactive, the note is over
            1,000 characters, or no message (or an unknown one) is given.
    """
    note = " ".join(note.split())
    if len(note) > MAX_NOTE_CHARS:
        raise TaskInvalid(
            f"The note has {len(note)} characters; the limit is {MAX_NOTE_CHARS}.",
            "note_long",
        )
    assignee = session.get(StaffAccount, assignee_id)
    if assignee is None or not assignee.active:
        raise TaskInvalid(
            f"No active staff member has the id {assignee_id}.", "assignee"
        )
    ids = sorted(set(message_ids))
    if not ids:
        raise TaskInvalid("A task needs at least one message.", "no_messages")
    found = session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.id.in_(ids), Message.role == MEMBER)
    )
    if found != len(ids):
        raise TaskInvalid("Some of the messages no longer exist.", "gone")
    now = utc_now()
    task = ReviewTask(
        assignee_id=assignee_id,
        created_by=creator_id,
        note=note,
        status="open",
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    session.flush()
    session.add_all(
        ReviewTaskMessage(task_id=task.id, message_id=message_id) for message_id in ids
    )
    return task.id


def set_status(session: Session, task_id: int, status: str) -> None:
    """Mark a task open or done.

    Raises:
        TaskInvalid: the status is neither ``open`` nor ``done``.
        NotFound: no task has this id.
    """
    if status not in STATUSES:
        raise TaskInvalid(f"Status {status[:20]!r} is not one of {STATUSES}.", "status")
    # An id beyond 64 bits cannot exist (and PostgreSQL refuses to look).
    task = session.get(ReviewTask, task_id) if 0 < task_id < 2**63 else None
    if task is None:
        raise NotFound(f"No task has the id {task_id}.", details={"task": task_id})
    task.status, task.updated_at = status, utc_now()


def list_tasks(
    session: Session, assignee_id: int | None = None, status: str | None = None
) -> list[TaskView]:
    """Tasks, open ones first and newest first within a status."""
    assignee, creator = aliased(StaffAccount), aliased(StaffAccount)
    query = (
        select(ReviewTask, assignee.username, creator.username)
        .join(assignee, assignee.id == ReviewTask.assignee_id)
        .outerjoin(creator, creator.id == ReviewTask.created_by)
        .order_by(ReviewTask.status.desc(), ReviewTask.id.desc())
    )
    if assignee_id is not None:
        query = query.where(ReviewTask.assignee_id == assignee_id)
    if status in STATUSES:
        query = query.where(ReviewTask.status == status)
    rows = session.execute(query).all()
    messages = _messages_of(session, [task.id for task, _, _ in rows])
    return [
        TaskView(
            task.id,
            assignee_name,
            creator_name,
            task.note,
            task.status,
            task.created_at,
            task.updated_at,
            tuple(messages.get(task.id, ())),
        )
        for task, assignee_name, creator_name in rows
    ]


def _messages_of(session: Session, task_ids: list[int]) -> dict[int, list[TaskMessage]]:
    if not task_ids:
        return {}
    found: dict[int, list[TaskMessage]] = {}
    rows = session.execute(
        select(
            ReviewTaskMessage.task_id, Message.id, Message.conversation_id, Message.text
        )
        .join(Message, Message.id == ReviewTaskMessage.message_id)
        .where(ReviewTaskMessage.task_id.in_(task_ids))
        .order_by(Message.id.desc())
    )
    for task_id, message_id, conversation_id, text in rows:
        found.setdefault(task_id, []).append(
            TaskMessage(message_id, conversation_id, text or "")
        )
    return found
