"""Retention: `veiviser purge` and the job in `serve`, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from test_store_support import open_assistant, settings_for, write_kb
from veiviser.cli.main import cli
from veiviser.errors import InvalidInput
from veiviser.service import Assistant
from veiviser.service.retention import RetentionJob, purge
from veiviser.store.models import Conversation, Feedback, Message, utc_now
from veiviser.store.models_insight import InsightDay

pytest_plugins = ["test_store_support"]


@pytest.fixture
def ready(database_url: str, tmp_path: Path) -> Iterator[Assistant]:
    assistant = open_assistant(settings_for(database_url, write_kb(tmp_path)))
    yield assistant
    assistant.close()


def conversation_with_feedback(assistant: Assistant, idle_days: float) -> str:
    """A conversation with one exchange and a rating, last active days ago."""
    opened = assistant.chat.start()
    exchange = assistant.chat.send(opened.id, opened.token, "hvor lang ferie får jeg")
    assistant.chat.feedback(opened.id, opened.token, exchange.reply.seq, "up", "fint")
    moment = utc_now() - timedelta(days=idle_days)
    with assistant.sessions.begin() as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == opened.id)
            .values(created_at=moment, last_activity_at=moment)
        )
        session.execute(
            update(Message)
            .where(Message.conversation_id == opened.id)
            .values(created_at=moment)
        )
    return opened.id


def count(assistant: Assistant, model: type, *where) -> int:
    with assistant.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_purge_deletes_only_conversations_idle_past_the_retention(ready):
    old = conversation_with_feedback(ready, idle_days=91)
    recent = conversation_with_feedback(ready, idle_days=89)

    result = purge(ready.sessions, retention_days=90)

    assert result.conversations == 1
    assert result.messages == 3  # greeting, question, reply
    assert count(ready, Conversation, Conversation.id == old) == 0
    assert count(ready, Message, Message.conversation_id == old) == 0
    assert count(ready, Conversation, Conversation.id == recent) == 1
    assert count(ready, Message, Message.conversation_id == recent) == 3
    assert count(ready, Feedback) == 1


def test_purge_settles_the_daily_statistics_before_deleting(ready):
    conversation_with_feedback(ready, idle_days=4)
    conversation_with_feedback(ready, idle_days=4)

    purge(ready.sessions, retention_days=3)

    with ready.sessions() as session:
        days = list(session.scalars(select(InsightDay)))
    assert days, "the rollup of the purged day must exist"
    assert sum(day.conversations for day in days) == 2


def test_purge_twice_finds_nothing_the_second_time(ready):
    conversation_with_feedback(ready, idle_days=100)

    first = purge(ready.sessions, retention_days=90)
    second = purge(ready.sessions, retention_days=90)

    assert (first.conversations, second.conversations) == (1, 0)


def test_a_retention_below_one_day_is_refused(ready):
    with pytest.raises(InvalidInput, match="at least 1 day"):
        purge(ready.sessions, retention_days=0)


def test_purge_command_deletes_and_dry_run_only_counts(ready, database_url, tmp_path):
    conversation_with_feedback(ready, idle_days=40)
    env = {
        "VEIVISER_DATABASE_URL": database_url,
        "VEIVISER_ENCODER": "none",
        "VEIVISER_CACHE_DIR": str(tmp_path / "cache"),
    }
    runner = CliRunner()

    dry = runner.invoke(cli, ["purge", "--days", "30", "--dry-run"], env=env)
    kept = count(ready, Conversation)
    real = runner.invoke(cli, ["purge", "--days", "30"], env=env)
    refused = runner.invoke(cli, ["purge", "--days", "0"], env=env)

    assert dry.exit_code == 0, dry.output
    assert "1 conversation(s)" in dry.output and "would be deleted" in dry.output
    assert kept == 1
    assert real.exit_code == 0, real.output
    assert "Deleted 1 conversation(s) with 3 message(s)" in real.output
    assert count(ready, Conversation) == 0
    assert refused.exit_code == 2


def test_the_daily_job_purges_on_its_schedule_and_stops(ready):
    conversation_with_feedback(ready, idle_days=200)
    ran = threading.Event()

    def purge_and_tell() -> None:
        purge(ready.sessions, ready.settings.retention_days)
        ran.set()

    job = RetentionJob(
        ready.sessions,
        ready.settings.retention_days,
        every=timedelta(hours=24),
        first_after=timedelta(seconds=0.01),
        run=purge_and_tell,
    )
    job.start()
    try:
        assert ran.wait(timeout=60)
    finally:
        job.stop()

    assert count(ready, Conversation) == 0
