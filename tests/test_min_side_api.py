"""Min side through the HTTP API, on SQLite and PostgreSQL.

A logged-in member gets personal answers; anyone else gets the general
answer and a note; nothing stored or logged tells who asked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select

from test_members_support import (
    QUESTIONS,
    TODAY,
    TrainedModel,
    login_settings,
    member_token,
    open_with_model,
    personal_kb,
)
from test_store_support import settings_for, write_kb
from veiviser.members.csv_import import import_members
from veiviser.members.demo import DEMO_MEMBERS
from veiviser.service import Assistant
from veiviser.store import create_engine_for
from veiviser.store.models_members import DIRECTORY_TABLES, PersonalReply
from veiviser.web import create_app

pytest_plugins = ["test_store_support", "test_members_support"]

API = "/api/v1"
INVITE = "Logg inn på Min side"
LOGIN_FAILED = "Innloggingen din kunne ikke bekreftes"
UNAVAILABLE = "får ikke hentet opplysningene dine"
NOT_FOUND = "fant ikke medlemsopplysningene dine"

# What each demo member's personal answers must say (judged on TODAY).
EXPECTED = {
    "demo-kari": {
        "faktura": [
            "D-2027-0101",
            "520,00 kr",
            "ikke betalt ennå",
            "betalt 01.12.2026",
        ],
        "kurs": ["Grunnkurs for tillitsvalgte, del 1", "10.03.2027", "på venteliste"],
        "tillitsvalgt": ["Per Tillitsvik", "mailto:per.tillitsvik@nordlys.example"],
        "medlemsbevis": ["Kari Demodatter", "DEMO-10001", "01.08.2015"],
    },
    "demo-ola": {
        "faktura": ["D-2026-1202", "431,00 kr", "betalt 25.11.2026"],
        "kurs": ["Du er ikke påmeldt noen kurs"],
        "tillitsvalgt": ["Randi Verneby", "Jonas Avtalesen", "tel:+4700000201"],
        "medlemsbevis": ["Ola Prøvesen", "DEMO-10002"],
    },
    "demo-aisha": {
        "faktura": ["Vi finner ingen fakturaer på deg"],
        "kurs": ["Ny i arbeidslivet", "Trondheim"],
        "tillitsvalgt": ["ikke registrert noen tillitsvalgt"],
        "medlemsbevis": ["Aisha Eksempelsen", "DEMO-10003"],
    },
}
# Values that must never be stored or logged.
PERSONAL_VALUES = [
    "demo-kari", "demo-ola", "demo-aisha", "Demodatter", "Prøvesen",
    "Eksempelsen", "DEMO-10001", "DEMO-10002", "DEMO-10003", "Tillitsvik",
    "Verneby", "Avtalesen", "per.tillitsvik@nordlys.example", "000 00 101",
    "D-2027-0101", "D-2026-1202", "520,00", "431,00", "Ny i arbeidslivet",
    "Grunnkurs for tillitsvalgte, del 1", "01.08.2015",
]  # fmt: skip


def open_personal(
    database_url: str, tmp_path: Path, model: TrainedModel, **changes
) -> Assistant:
    settings = settings_for(database_url, write_kb(tmp_path, personal_kb()), **changes)
    assistant = open_with_model(settings, model)
    assistant.chat.personal.today = lambda: TODAY
    return assistant


@pytest.fixture
def assistant(database_url, tmp_path, personal_model) -> Iterator[Assistant]:
    """Member login on, the demo members in the built-in tables."""
    ready = open_personal(database_url, tmp_path, personal_model, **login_settings())
    import_members(ready.sessions, DEMO_MEMBERS)
    yield ready
    ready.close()


@pytest.fixture
def client(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(assistant.settings, assistant)) as test_client:
        yield test_client


class Chat:
    """One browser's conversation, with an optional member token per request."""

    def __init__(self, client: TestClient, member: str | None = None) -> None:
        self.client = client
        opened = client.post(f"{API}/conversations", headers=self.member(member))
        assert opened.status_code == 201, opened.text
        self.opened = opened.json()
        self.url = f"{API}/conversations/{self.opened['id']}/messages"
        self.auth = {"Authorization": f"Bearer {self.opened['token']}"}

    @staticmethod
    def member(member: str | None, token: str | None = None) -> dict[str, str]:
        if token is not None:
            return {"X-Member-Token": token}
        return {"X-Member-Token": member_token(member)} if member else {}

    def ask(self, text: str, member: str | None = None, token: str | None = None):
        response = self.client.post(
            self.url,
            json={"text": text},
            headers={**self.auth, **self.member(member, token)},
        )
        assert response.status_code == 200, response.text
        return response.json()

    def history(self, member: str | None = None) -> dict:
        response = self.client.get(
            self.url, headers={**self.auth, **self.member(member)}
        )
        assert response.status_code == 200, response.text
        return response.json()


# --- Personal answers ---------------------------------------------------------


def test_each_demo_member_gets_their_own_personal_answers(client):
    for member in EXPECTED:
        chat = Chat(client, member)
        assert chat.opened["login"] == {"status": "member"}

        for intent, question in QUESTIONS.items():
            reply = chat.ask(question, member)
            assert reply["intent"] == intent
            assert reply["login"] == {"status": "member"}
            for expected in EXPECTED[member][intent]:
                assert expected in reply["html"], (member, intent, expected)
            for other in (m for m in EXPECTED if m != member):
                assert EXPECTED[other]["medlemsbevis"][1] not in reply["html"]
            assert INVITE not in reply["html"]


def test_anonymous_member_gets_the_general_answer_and_an_invitation(client):
    chat = Chat(client)
    reply = chat.ask(QUESTIONS["kurs"])

    assert chat.opened["login"] == {"status": "anonymous"}
    assert reply["login"] == {"status": "anonymous"}
    assert "De fleste kursene er" in reply["html"]  # the general answer
    assert INVITE in reply["html"]


def test_questions_that_are_not_personal_are_answered_as_before(client):
    reply = Chat(client).ask("hvor mange feriedager har jeg", "demo-kari")
    assert reply["intent"] == "ferie"
    assert INVITE not in reply["html"] and "Kari" not in reply["html"]


REFUSED_TOKENS = {
    "expired": member_token("demo-kari", lifetime=-600),
    "wrong audience": member_token("demo-kari", audience="someone-else"),
    "wrong issuer": member_token("demo-kari", issuer="https://evil.example"),
    "wrong key": member_token("demo-kari", secret="not-the-portals-key-" + "y" * 30),
    "alg none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
    "eyJpc3MiOiJodHRwczovL21pbnNpZGUuZm9yYnVuZGV0LmV4YW1wbGUiLCJhdWQiOiJ2ZWl2"
    "aXNlciIsInN1YiI6ImRlbW8ta2FyaSIsImV4cCI6NDEwMjQ0NDgwMH0.",
    "garbage": "garbage",
    "xss": "<script>alert(1)</script>",
    "huge": "x" * 20_000,
    "sql-ish": "' OR 1=1; --",
}


def test_a_refused_token_means_anonymous_chat_that_says_login_failed(client):
    chat = Chat(client)
    for name, token in REFUSED_TOKENS.items():
        reply = chat.ask(QUESTIONS["medlemsbevis"], token=token)

        assert reply["login"] == {"status": "failed"}, name
        assert LOGIN_FAILED in reply["html"], name
        assert "DEMO-10001" not in reply["html"], name
    opened = client.post(
        f"{API}/conversations", headers={"X-Member-Token": REFUSED_TOKENS["expired"]}
    )
    assert opened.json()["login"] == {"status": "failed"}


def test_tampered_payload_is_refused_through_the_api(client):
    header, _, signature = member_token("demo-kari").split(".")
    _, payload, _ = member_token("demo-ola").split(".")
    reply = Chat(client).ask(
        QUESTIONS["medlemsbevis"], token=f"{header}.{payload}.{signature}"
    )
    assert reply["login"] == {"status": "failed"}
    assert "DEMO-10002" not in reply["html"] and "DEMO-10001" not in reply["html"]


def test_token_is_checked_on_every_request_not_only_the_first(client):
    chat = Chat(client, "demo-kari")
    first = chat.ask(QUESTIONS["medlemsbevis"], "demo-kari")
    missing = chat.ask(QUESTIONS["medlemsbevis"])
    swapped = chat.ask(QUESTIONS["medlemsbevis"], "demo-ola")
    expired = chat.ask(
        QUESTIONS["medlemsbevis"], token=member_token("demo-kari", lifetime=-600)
    )

    assert "DEMO-10001" in first["html"]
    assert missing["login"]["status"] == "anonymous"
    assert "DEMO-10001" not in missing["html"] and INVITE in missing["html"]
    assert "DEMO-10002" in swapped["html"] and "DEMO-10001" not in swapped["html"]
    assert expired["login"]["status"] == "failed"
    assert "DEMO-10001" not in expired["html"]


def test_history_shows_the_personal_part_only_to_a_logged_in_member(client):
    chat = Chat(client, "demo-kari")
    seq = chat.ask(QUESTIONS["kurs"], "demo-kari")["seq"]

    def reply_html(history: dict) -> str:
        return next(m["html"] for m in history["messages"] if m["seq"] == seq)

    as_kari = chat.history("demo-kari")
    anonymous = chat.history()
    as_ola = chat.history("demo-ola")

    assert as_kari["login"]["status"] == "member"
    assert "Grunnkurs for tillitsvalgte" in reply_html(as_kari)
    assert "Grunnkurs for tillitsvalgte" not in reply_html(anonymous)
    assert INVITE in reply_html(anonymous)
    # Nothing records who asked, so another member sees their own values.
    assert "Du er ikke påmeldt noen kurs" in reply_html(as_ola)


def test_stored_reply_keeps_the_general_answer_and_the_template_id(client, assistant):
    chat = Chat(client, "demo-kari")
    seq = chat.ask(QUESTIONS["faktura"], "demo-kari")["seq"]

    with assistant.sessions() as session:
        marks = session.scalars(select(PersonalReply)).all()
    assert [m.template for m in marks] == ["faktura"]
    assert seq > 0


def test_member_missing_from_the_directory_gets_the_general_answer(client):
    reply = Chat(client).ask(QUESTIONS["kurs"], "someone-else")
    assert reply["login"]["status"] == "member"
    assert NOT_FOUND in reply["html"]


def test_member_login_off_means_every_token_fails(
    database_url, tmp_path, personal_model
):
    assistant = open_personal(database_url, tmp_path, personal_model)
    try:
        with TestClient(create_app(assistant.settings, assistant)) as client:
            reply = Chat(client).ask(QUESTIONS["kurs"], "demo-kari")
    finally:
        assistant.close()
    assert reply["login"]["status"] == "failed"
    assert LOGIN_FAILED in reply["html"]


# --- The external member system ---------------------------------------------


@pytest.fixture
def http_assistant(
    database_url, tmp_path, member_system, personal_model
) -> Iterator[Assistant]:
    ready = open_personal(
        database_url,
        tmp_path,
        personal_model,
        **login_settings(),
        member_directory="http",
        member_api_url=member_system.url,
        member_api_token=member_system.token,
        member_api_timeout_seconds=0.3,
        member_api_retries=1,
        # The breaker itself is tested on the connector; here every call goes out.
        member_api_breaker_failures=1000,
    )
    yield ready
    ready.close()


def test_slow_or_failing_member_system_gives_the_general_answer_and_a_note(
    http_assistant, member_system
):
    with TestClient(create_app(http_assistant.settings, http_assistant)) as client:
        for mode in ("ok", "slow", "error", "garbage", "reset", "ok"):
            member_system.mode = mode
            chat = Chat(client)
            reply = chat.ask(QUESTIONS["kurs"], "demo-kari")
            history = chat.history("demo-kari")

            assert reply["login"]["status"] == "member", mode
            assert len(history["messages"]) == 3, mode
            if mode == "ok":
                assert "Grunnkurs for tillitsvalgte" in reply["html"]
            else:
                assert UNAVAILABLE in reply["html"], mode
                assert "De fleste kursene er" in reply["html"], mode


def test_nothing_stored_or_logged_names_the_member(
    http_assistant, member_system, database_url, caplog
):
    # The HTTP directory keeps every member value outside the database, so
    # every column of every table can be searched with no exception.
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(http_assistant.settings, http_assistant)) as client:
        for member in EXPECTED:
            chat = Chat(client, member)
            shown = [chat.ask(q, member)["html"] for q in QUESTIONS.values()]
            chat.history(member)
            assert any(EXPECTED[member]["medlemsbevis"][1] in h for h in shown)
            client.post(
                f"{chat.url}/{len(shown) * 2 + 1}/feedback",
                json={"rating": "up"},
                headers=chat.auth,
            )

    stored = everything_stored(database_url, exclude=())
    found = [value for value in PERSONAL_VALUES if value in stored]
    logged = [value for value in PERSONAL_VALUES if value in caplog.text]
    assert found == []
    assert logged == []
    assert "personal_reply" in stored  # the search really read the tables


def test_built_in_directory_tables_are_the_only_place_members_live(
    client, database_url, caplog
):
    # Every logger at DEBUG, the root included, not only veiviser's own.
    caplog.set_level(logging.DEBUG)
    for member in EXPECTED:
        chat = Chat(client, member)
        for question in QUESTIONS.values():
            chat.ask(question, member)
        chat.history(member)

    stored = everything_stored(database_url, exclude=DIRECTORY_TABLES)
    assert [v for v in PERSONAL_VALUES if v in stored] == []
    assert "conversation" in caplog.text  # the capture saw the chat's log
    assert [v for v in PERSONAL_VALUES if v in caplog.text] == []
    # No message text reaches a log at any level, not even masked.
    assert [q for q in QUESTIONS.values() if q in caplog.text] == []


def everything_stored(database_url: str, exclude: tuple[str, ...]) -> str:
    """Every value of every column of every table, as one searchable text."""
    engine = create_engine_for(database_url)
    metadata = MetaData()
    metadata.reflect(engine)
    parts: list[str] = []
    try:
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                if table.name in exclude:
                    continue
                parts.append(f"<{table.name}>")
                for row in connection.execute(table.select()):
                    parts.extend(_text(value) for value in row)
    finally:
        engine.dispose()
    return "\n".join(parts)


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


# --- The demo portal ----------------------------------------------------------


def test_demo_portal_is_absent_outside_demo_mode(client):
    assert client.get("/demo/min-side").status_code == 404
    token = client.post("/demo/min-side/token", json={"member": "demo-kari"})
    assert token.status_code == 404


@pytest.fixture
def demo_client(database_url, tmp_path, personal_model) -> Iterator[TestClient]:
    ready = open_personal(database_url, tmp_path, personal_model, demo_mode=True)
    try:
        with TestClient(create_app(ready.settings, ready)) as test_client:
            yield test_client
    finally:
        ready.close()


def test_demo_portal_signs_in_a_fictional_member(demo_client):
    page = demo_client.get("/demo/min-side")
    signed_in = demo_client.get("/demo/min-side", params={"medlem": "demo-ola"})
    token = demo_client.post("/demo/min-side/token", json={"member": "demo-ola"})

    assert page.status_code == 200 and "Logg inn som Ola Prøvesen" in page.text
    assert 'data-member="demo-ola"' in signed_in.text
    assert token.status_code == 200
    reply = Chat(demo_client).ask(
        QUESTIONS["medlemsbevis"], token=token.json()["token"]
    )
    assert reply["login"]["status"] == "member"
    assert "DEMO-10002" in reply["html"]


@pytest.mark.parametrize(
    "body",
    [{"member": "nobody"}, {"member": ""}, {"member": "<script>"}, {"member": 1}, {}],
)
def test_demo_portal_refuses_unknown_or_malformed_members(demo_client, body):
    response = demo_client.post("/demo/min-side/token", json=body)
    assert response.status_code in (404, 422)
    assert set(response.json()) == {"error"}


def test_demo_portal_escapes_a_hostile_member_parameter(demo_client):
    page = demo_client.get("/demo/min-side", params={"medlem": "<script>x</script>"})
    assert page.status_code == 200
    assert "<script>x</script>" not in page.text
    assert "Det finnes ikke noe demomedlem" in page.text
