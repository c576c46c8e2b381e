"""Several processes on one database, on SQLite and PostgreSQL.

Each "process" is an assistant of its own: its own engine, connection pool
and model in memory, exactly what a second ``veiviser serve`` has. Threads
make their requests meet at the same instant.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import func, select

from veiviser.service import Assistant
from veiviser.service.chat import Exchange
from veiviser.service.knowledge import import_if_empty
from veiviser.service.training import ensure_model
from veiviser.store.models import Conversation, Message, ModelVersion

pytest_plugins = ["test_store_support"]

from servers import veiviser_server  # noqa: E402
from test_store_support import open_assistant, settings_for, write_kb  # noqa: E402

ROUNDS = 6
T = TypeVar("T")


@pytest.fixture
def two_processes(database_url: str, tmp_path: Path) -> Iterator[list[Assistant]]:
    settings = settings_for(database_url, write_kb(tmp_path))
    first = open_assistant(settings)
    second = open_assistant(settings)
    yield [first, second]
    first.close()
    second.close()


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Run the calls in threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(released, call) for call in calls]
        return [future.result() for future in futures]


def stored_messages(assistant: Assistant, conversation_id: str) -> list[Message]:
    with assistant.sessions() as session:
        return list(
            session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.seq)
            )
        )


def test_two_declines_at_two_processes_at_once_are_decided_one_after_the_other(
    two_processes,
):
    first, second = two_processes
    opened = first.chat.start()
    person = first.models.require().view.texts.get("person_button")

    for _ in range(ROUNDS):
        replies = at_once(
            lambda: first.chat.send(opened.id, opened.token, "hva blir været i morgen"),
            lambda: second.chat.send(opened.id, opened.token, "fortell meg en vits"),
        )
        earlier, later = sorted(replies, key=lambda exchange: exchange.reply.seq)

        # Taken in order, the second decline in a row offers a person; decided
        # on the same state, neither would.
        assert earlier.reply.outcome == later.reply.outcome == "fallback"
        assert person not in [button.label for button in earlier.reply.buttons]
        assert person in [button.label for button in later.reply.buttons]
        # A confident answer ends the run of declines for the next round.
        answered = first.chat.send(opened.id, opened.token, "hvor mange feriedager")
        assert answered.reply.outcome == "answer"

    with first.sessions() as session:
        state = session.get(Conversation, opened.id).state
    assert state["declines_in_row"] == 0


def test_turns_racing_at_two_processes_lose_and_duplicate_nothing(two_processes):
    first, second = two_processes
    opened = first.chat.start()
    texts = [f"ferie nummer {n}" for n in range(2 * ROUNDS)]

    for n in range(ROUNDS):
        at_once(
            lambda n=n: first.chat.send(opened.id, opened.token, texts[2 * n]),
            lambda n=n: second.chat.send(opened.id, opened.token, texts[2 * n + 1]),
        )

    messages = stored_messages(first, opened.id)
    assert [m.seq for m in messages] == list(range(1, 2 + 4 * ROUNDS))
    roles = [m.role for m in messages[1:]]
    assert roles == ["member", "assistant"] * (2 * ROUNDS)
    assert sorted(m.text for m in messages if m.role == "member") == sorted(texts)


def test_a_retry_at_another_process_racing_its_original_is_stored_once(
    two_processes,
):
    first, second = two_processes
    opened = first.chat.start()

    for n in range(ROUNDS):
        client_id = f"klient-{n}"
        results: list[Exchange] = at_once(
            lambda c=client_id: first.chat.send(opened.id, opened.token, "ferie", c),
            lambda c=client_id: second.chat.send(opened.id, opened.token, "ferie", c),
        )
        assert results[0] == results[1]

    messages = stored_messages(first, opened.id)
    members = [m for m in messages if m.role == "member"]
    assert len(members) == ROUNDS
    assert len({m.client_id for m in members}) == ROUNDS


def test_processes_starting_together_train_the_revision_once(
    database_url: str, tmp_path: Path
):
    settings = settings_for(database_url, write_kb(tmp_path))
    processes = [Assistant.open(settings) for _ in range(3)]
    try:
        import_if_empty(processes[0].sessions, settings.kb)

        model_ids = at_once(
            *[lambda a=a: ensure_model(a.sessions, a.encoder) for a in processes]
        )

        with processes[0].sessions() as session:
            stored = session.scalar(select(func.count()).select_from(ModelVersion))
        assert stored == 1
        assert len(set(model_ids)) == 1
    finally:
        for assistant in processes:
            assistant.close()


def test_serve_with_two_workers_answers_and_adds_up_their_metrics(tmp_path: Path):
    env = {"VEIVISER_WORKERS": "2", "VEIVISER_RATE_LIMIT_PER_MINUTE": "0"}
    with veiviser_server(tmp_path, kb=write_kb(tmp_path), env=env) as server:
        workers = _children(server.process.pid)
        statuses = [
            httpx.post(f"{server.url}/api/v1/conversations").status_code
            for _ in range(10)
        ]
        metrics = httpx.get(f"{server.url}/metrics").text

    assert statuses == [201] * 10
    assert len(workers) >= 2
    opened = (
        'veiviser_http_requests_total{method="POST",'
        'route="/api/v1/conversations",status="201"}'
    )
    line = next(line for line in metrics.splitlines() if line.startswith(opened))
    assert float(line.rsplit(" ", 1)[1]) == 10


def _children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
