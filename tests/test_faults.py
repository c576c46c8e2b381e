"""Faults: a server killed under load, PostgreSQL restarted, a database that
cannot be written. Each test asserts the outcome and gives recovery a
generous bound; the seconds themselves are measured in benchmarks/faults.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shlex
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from servers import RunningServer, veiviser_server
from test_store_support import open_assistant, settings_for, write_kb
from veiviser.service import Assistant
from veiviser.store.models import Message
from veiviser.web import create_app

pytest_plugins = ["test_store_support"]

API = "/api/v1"
RECOVERY_SECONDS = 60
MEMBERS = 4
MESSAGES_EACH = 12


# --- A process killed in the middle of load -------------------------------------


class Member:
    """A member's browser: retries a message with its client id until answered,
    at the next server when one stops answering."""

    def __init__(self, servers: list[str], number: int) -> None:
        self.servers = servers
        self.number = number
        self.answered: dict[str, int] = {}
        self.retries = 0
        self.failure: str | None = None

    def run(self, started: threading.Event) -> None:
        try:
            self._run(started)
        except Exception as error:  # the test reports it
            self.failure = repr(error)

    def _run(self, started: threading.Event) -> None:
        with httpx.Client(timeout=20) as http:
            opened = self._call(http, "POST", f"{API}/conversations", None, None)
            self.conversation = opened["id"]
            auth = {"Authorization": f"Bearer {opened['token']}"}
            for n in range(MESSAGES_EACH):
                client_id = f"member-{self.number}-message-{n}"
                body = {"text": f"ferie nummer {n}", "client_id": client_id}
                url = f"{API}/conversations/{self.conversation}/messages"
                reply = self._call(http, "POST", url, body, auth)
                self.answered[client_id] = reply["member"]["seq"]
                started.set()
                time.sleep(0.02)

    def _call(self, http, method, path, body, headers) -> dict:
        deadline = time.monotonic() + RECOVERY_SECONDS
        attempt = 0
        while True:
            base = self.servers[(self.number + attempt) % len(self.servers)]
            attempt += 1
            try:
                response = http.request(method, base + path, json=body, headers=headers)
                if response.status_code < 500:
                    response.raise_for_status()
                    return response.json()
            except (httpx.TransportError, httpx.RemoteProtocolError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"no server answered {path} in time")
            self.retries += 1
            time.sleep(0.1)


@contextlib.contextmanager
def two_servers(workdir: Path, database_url: str) -> Iterator[list[RunningServer]]:
    env = {"VEIVISER_DATABASE_URL": database_url, "VEIVISER_RATE_LIMIT_PER_MINUTE": "0"}
    kb = write_kb(workdir)
    with (
        veiviser_server(workdir, kb=kb, env=env) as first,
        veiviser_server(workdir, kb=kb, env=env) as second,
    ):
        yield [first, second]


def test_killing_a_server_under_load_loses_no_message_and_retries_succeed(
    database_url: str, tmp_path: Path
):
    with two_servers(tmp_path, database_url) as servers:
        urls = [server.url for server in servers]
        members = [Member(urls, n) for n in range(MEMBERS)]
        started = threading.Event()
        threads = [
            threading.Thread(target=member.run, args=(started,)) for member in members
        ]
        for thread in threads:
            thread.start()
        assert started.wait(RECOVERY_SECONDS), [m.failure for m in members]
        servers[0].process.send_signal(signal.SIGKILL)
        for thread in threads:
            thread.join(RECOVERY_SECONDS * 2)

        assert servers[0].process.wait(10) == -signal.SIGKILL
        assert [m.failure for m in members] == [None] * MEMBERS
        assert all(len(m.answered) == MESSAGES_EACH for m in members)
        assert sum(m.retries for m in members) >= 1, "the kill hit no request"
        stored = stored_member_messages(database_url, members)

    for member in members:
        rows = stored[member.conversation]
        # Every message exactly once, under the number the member was told.
        assert sorted(rows) == sorted(member.answered.items())


def stored_member_messages(
    database_url: str, members: list[Member]
) -> dict[str, list[tuple[str, int]]]:
    from veiviser.store import create_engine_for

    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Message.conversation_id, Message.client_id, Message.seq).where(
                    Message.role == "member",
                    Message.conversation_id.in_([m.conversation for m in members]),
                )
            ).all()
    finally:
        engine.dispose()
    stored: dict[str, list[tuple[str, int]]] = {m.conversation: [] for m in members}
    for conversation, client_id, seq in rows:
        stored[conversation].append((client_id, seq))
    return stored


# --- PostgreSQL restarted ----------------------------------------------------------


def pg_ctl() -> list[str]:
    command = os.environ.get("VEIVISER_TEST_PG_CTL")
    if not command:
        pytest.skip("VEIVISER_TEST_PG_CTL is not set (run scripts/test.sh)")
    return shlex.split(command)


def restart_options(ctl: list[str]) -> str:
    """The options the throwaway server was started with, for ``pg_ctl start``."""
    data = Path(ctl[ctl.index("-D") + 1])
    words = shlex.split((data / "postmaster.opts").read_text())[1:]
    kept = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word == "-D":
            skip = True
        else:
            kept.append(word)
    return shlex.join(kept)


@pytest.mark.postgres
def test_after_postgresql_restarts_the_service_recovers_by_itself(
    postgres_url: str, tmp_path: Path
):
    ctl = pg_ctl()
    options = restart_options(ctl)
    env = {"VEIVISER_DATABASE_URL": ""}
    with contextlib.ExitStack() as stack:
        env["VEIVISER_DATABASE_URL"] = stack.enter_context(fresh_database(postgres_url))
        server = stack.enter_context(
            veiviser_server(tmp_path, kb=write_kb(tmp_path), env=env)
        )
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
        assert http.post(f"{API}/conversations").status_code == 201

        stop = [*ctl, "stop", "-m", "fast", "-w"]
        subprocess.run(stop, check=True, stdout=subprocess.DEVNULL)
        try:
            down = http.post(f"{API}/conversations")
            not_ready = http.get("/readyz")
        finally:
            start_postgresql(ctl, options)

        assert down.status_code == 503
        assert down.json()["error"]["code"] == "storage_unavailable"
        assert not_ready.status_code == 503
        recovered = wait_for(lambda: http.post(f"{API}/conversations"))
        assert recovered.status_code == 201
        assert http.get("/readyz").status_code == 200
        assert "database unavailable" in server.log()


@contextlib.contextmanager
def fresh_database(base_url: str) -> Iterator[str]:
    """A new PostgreSQL database; no pooled connection outlives the restart."""
    name = f"veiviser_t_{secrets.token_hex(6)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(base_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start_postgresql(ctl: list[str], options: str) -> None:
    # No pipes: the server would inherit them and the call never return.
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*ctl, "start", "-w", "-o", options], check=True, **quiet)


def wait_for(call) -> httpx.Response:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        response = call()
        if response.status_code < 500 or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


# --- A database that cannot be written ---------------------------------------------


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Iterator[tuple[Path, Assistant]]:
    """A prepared SQLite database with one conversation, and its assistant."""
    path = tmp_path / "var" / "veiviser.db"
    writer = open_assistant(settings_for(f"sqlite:///{path}", write_kb(tmp_path)))
    opened = writer.chat.start()
    writer.chat.send(opened.id, opened.token, "hvor mange feriedager har jeg")
    yield path, writer
    writer.close()


def message_count(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return connection.execute("SELECT count(*) FROM message").fetchone()[0]


def integrity(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_a_read_only_database_answers_503_and_logs_it_without_damage(
    sqlite_file, tmp_path, caplog
):
    path, _writer = sqlite_file
    before = message_count(path)
    read_only = settings_for(
        f"sqlite:///file:{path}?mode=ro&uri=true", tmp_path / "kb.yaml"
    )
    assistant = open_assistant(read_only)
    try:
        with TestClient(create_app(read_only, assistant)) as client:
            with caplog.at_level(logging.ERROR, logger="veiviser"):
                opened = client.post(f"{API}/conversations")
            history_ok = client.get("/healthz").status_code
    finally:
        assistant.close()

    assert opened.status_code == 503
    error = opened.json()["error"]
    assert error["code"] == "storage_unavailable" and error["message"]
    assert any("database unavailable" in r.getMessage() for r in caplog.records)
    assert history_ok == 200
    assert message_count(path) == before
    assert integrity(path) == "ok"


def test_a_full_disk_answers_503_keeps_stored_turns_and_recovers(sqlite_file):
    path, assistant = sqlite_file

    @event.listens_for(assistant.engine, "connect")
    def cap_size(connection, _record) -> None:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count={pages + 2}")

    assistant.engine.dispose()  # new connections get the cap
    before = message_count(path)
    statuses = []
    with TestClient(create_app(assistant.settings, assistant)) as client:
        opened = client.post(f"{API}/conversations").json()
        auth = {"Authorization": f"Bearer {opened['token']}"}
        url = f"{API}/conversations/{opened['id']}/messages"
        for n in range(200):
            text = f"ferie {n} " + "lang tekst " * 150
            statuses.append(client.post(url, json={"text": text}, headers=auth))
            if statuses[-1].status_code == 503:
                break

        full = statuses[-1]
        assert full.status_code == 503
        assert full.json()["error"]["code"] == "storage_unavailable"
        answered = sum(1 for response in statuses if response.status_code == 200)
        # Every turn answered is stored whole: the member's message and reply.
        assert message_count(path) == before + 1 + 2 * answered
        assert integrity(path) == "ok"

        event.remove(assistant.engine, "connect", cap_size)
        assistant.engine.dispose()
        again = client.post(url, json={"text": "ferie"}, headers=auth)

    assert again.status_code == 200
    with assistant.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == (
            before + 1 + 2 * answered + 2
        )
