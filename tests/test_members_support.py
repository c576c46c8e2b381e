"""Fixtures shared by the Min side tests (member login and personal answers).

A small knowledge base holds the four personal intents exactly as the demo
knowledge base words them (answer and personal template), so the demo
templates are the ones tested; the demo members come from the shipped CSV.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest

from test_store_support import SMALL_KB, small_kb
from veiviser.content import KnowledgeBase
from veiviser.content.yaml_io import load_knowledge_base
from veiviser.members.demo import DEMO_MEMBERS
from veiviser.service import Assistant
from veiviser.service.knowledge import import_if_empty
from veiviser.settings import Settings
from veiviser.store import model_versions
from veiviser.store.knowledge import kb_revision
from veiviser.store.models import ModelVersion

DEMO_KB = Path(__file__).resolve().parent.parent / "src" / "veiviser" / "demo" / "kb"
PERSONAL_INTENTS = ("faktura", "kurs", "tillitsvalgt", "medlemsbevis")
SECRET = "test-secret-for-member-tokens-0123456789-abcdefghij"
ISSUER = "https://minside.forbundet.example"
AUDIENCE = "veiviser"
# The date personal answers are judged by in these tests.
TODAY = date(2026, 12, 4)

# A question per personal intent: a training phrase, so the small model
# answers it with confidence.
QUESTIONS = {
    "faktura": "hvor finner jeg fakturaene mine",
    "kurs": "hvilke kurs er jeg påmeldt",
    "tillitsvalgt": "hvem er tillitsvalgt på arbeidsplassen min",
    "medlemsbevis": "hva er medlemsnummeret mitt",
}


def personal_kb() -> KnowledgeBase:
    """The small test knowledge base plus the demo's four personal intents."""
    demo = load_knowledge_base(DEMO_KB)
    intents = []
    for intent_id in PERSONAL_INTENTS:
        source = demo.intent(intent_id)
        intents.append(
            {
                "id": intent_id,
                "title": source.title,
                "phrases": [*source.phrases[:25], QUESTIONS[intent_id]],
                "answer": source.answer,
                "personal_answer": source.personal_answer,
            }
        )
    return small_kb(intents=[*SMALL_KB["intents"], *intents])


def member_token(
    member_id: str,
    *,
    secret: str = SECRET,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    lifetime: int = 300,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    """A login token as the member portal signs it."""
    now = int(time.time())
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": member_id,
        "iat": now,
        "exp": now + lifetime,
        **claims,
    }
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def login_settings(**changes: Any) -> dict[str, Any]:
    """Settings for member login with the test secret."""
    return {
        "member_token_secret": SECRET,
        "member_token_issuer": ISSUER,
        "member_token_audience": AUDIENCE,
        **changes,
    }


def demo_records() -> dict[str, dict[str, Any]]:
    """The demo members as the external member system's JSON records."""

    def rows(name: str) -> list[dict[str, str]]:
        with (DEMO_MEMBERS / name).open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    employers = {r["id"]: r["name"] for r in rows("employers.csv")}
    courses = {r["id"]: r for r in rows("courses.csv")}
    records = {}
    for member in rows("members.csv"):
        records[member["id"]] = {
            "member_number": member["member_number"],
            "first_name": member["first_name"],
            "last_name": member["last_name"],
            "joined_on": member["joined_on"] or None,
            "employer": employers.get(member["employer_id"]),
            "representatives": [
                {k: r[k] or None for k in ("name", "role", "email", "phone")}
                for r in rows("representatives.csv")
                if r["employer_id"] == member["employer_id"]
            ],
            "enrolments": [
                {
                    "title": courses[e["course_id"]]["title"],
                    "status": e["status"],
                    "starts_on": courses[e["course_id"]]["starts_on"] or None,
                    "place": courses[e["course_id"]]["place"] or None,
                }
                for e in rows("enrolments.csv")
                if e["member_id"] == member["id"]
            ],
            "invoices": [
                {
                    k: i[k] or None
                    for k in ("number", "period", "amount", "due_on", "paid_on")
                }
                for i in rows("invoices.csv")
                if i["member_id"] == member["id"]
            ],
        }
    return records


@dataclass
class FakeMemberSystem:
    """An external member system on 127.0.0.1 that tests can make misbehave.

    ``mode``: ``ok``, ``slow`` (answers after ``delay`` seconds), ``error``
    (500), ``garbage`` (200 with a body that is no record), ``refuse`` (401)
    or ``reset`` (closes the connection without answering).
    """

    records: dict[str, dict[str, Any]]
    token: str = "member-system-token"
    mode: str = "ok"
    delay: float = 1.5
    calls: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


def _handler(system: FakeMemberSystem) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            system.calls.append(
                {"path": self.path, "auth": self.headers.get("Authorization")}
            )
            if system.mode == "slow":
                time.sleep(system.delay)
            if system.mode == "reset":
                self.close_connection = True
                self.wfile.flush()
                self.connection.close()
                return
            if system.mode == "error":
                return self._send(500, {"error": "down"})
            if system.mode == "refuse" or (
                self.headers.get("Authorization") != f"Bearer {system.token}"
            ):
                return self._send(401, {"error": "who are you"})
            if system.mode == "garbage":
                return self._send(200, {"first_name": 12})
            if self.path != "/api/members/lookup":
                return self._send(404, {})
            record = system.records.get(body.get("id"))
            if record is None:
                return self._send(404, {"error": "no such member"})
            return self._send(200, record)

        def _send(self, status: int, data: Any) -> None:
            payload = json.dumps(data).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting, as it should

    return Handler


@pytest.fixture
def member_system() -> Iterator[FakeMemberSystem]:
    """A fake member system serving the demo members, on 127.0.0.1."""
    system = FakeMemberSystem(demo_records())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(system))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    system.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    try:
        yield system
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class TrainedModel:
    """A model trained once on ``personal_kb``, reused by every test database."""

    data: bytes
    stats: dict[str, Any]


@pytest.fixture(scope="session")
def personal_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """Train on the personal knowledge base once for the whole run.

    Training is the slow part of opening an assistant; the model is the same
    for every test database, so each test stores this one instead.
    """
    from test_store_support import open_assistant, settings_for, write_kb

    work = tmp_path_factory.mktemp("personal-model")
    settings = settings_for(
        f"sqlite:///{work / 'model.db'}", write_kb(work, personal_kb())
    )
    assistant = open_assistant(settings)
    try:
        current = assistant.models.require()
        with assistant.sessions() as session:
            stored = model_versions.load_model(session, current.model_version_id)
            row = session.get(ModelVersion, current.model_version_id)
            assert stored is not None and row is not None
            return TrainedModel(stored.data, dict(row.stats))
    finally:
        assistant.close()


def open_with_model(settings: Settings, model: TrainedModel) -> Assistant:
    """An assistant on ``personal_kb`` whose model is stored, not trained."""
    assistant = Assistant.open(settings)
    import_if_empty(assistant.sessions, settings.kb)
    with assistant.sessions.begin() as session:
        model_versions.save_model(
            session, kb_revision(session), "none", model.data, model.stats
        )
    assistant.prepare()
    return assistant
