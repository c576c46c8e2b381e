"""Handover to a person through the API and the service, on SQLite and PostgreSQL.

The clock is frozen (and moved by hand) so opening hours, heartbeats and
waiting times are tested at chosen moments, never by waiting.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from test_store_support import open_assistant, settings_for, write_kb
from veiviser.handover.errors import AlreadyClaimed, HandoverConflict
from veiviser.service import Assistant
from veiviser.store.models import Message
from veiviser.store.models_handover import (
    Handover,
    HandoverEvent,
    HandoverTicket,
)
from veiviser.web import create_app

pytest_plugins = ["test_store_support"]

API = "/api/v1"
OSLO = ZoneInfo("Europe/Oslo")
# A Wednesday in March, inside the default 09:00–15:00.
OPEN_MOMENT = datetime(2027, 3, 3, 10, 0, tzinfo=OSLO)
NIGHT = datetime(2027, 3, 3, 22, 0, tzinfo=OSLO)
ASCENSION_DAY = datetime(2027, 5, 6, 10, 0, tzinfo=OSLO)
WIDGET_TEXTS = (
    Path(__file__).parents[1] / "src/veiviser/web/static/widget/texts.nb.json"
)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Advisor:
    id: int
    username: str


@dataclass(frozen=True)
class VerifiedMember:
    """Stands in for veiviser.members' verified identity."""

    member_id: str
    display_name: str


KARI = Advisor(1, "kari")
OLA = Advisor(2, "ola")


@pytest.fixture
def fast_assistant(database_url: str, tmp_path: Path) -> Iterator[Assistant]:
    settings = settings_for(
        database_url,
        write_kb(tmp_path),
        handover_stream_seconds=0.3,
        handover_poll_seconds=0.05,
    )
    ready = open_assistant(settings)
    yield ready
    ready.close()


@pytest.fixture
def clock(fast_assistant: Assistant) -> FrozenClock:
    frozen = FrozenClock(OPEN_MOMENT)
    fast_assistant.handover.clock = frozen
    return frozen


@pytest.fixture
def client(fast_assistant: Assistant, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(fast_assistant.settings, fast_assistant)
    with TestClient(app) as test_client:
        test_client.app_state = app.state  # type: ignore[attr-defined]
        yield test_client


@pytest.fixture
def conversation(client: TestClient) -> dict:
    data = client.post(f"{API}/conversations").json()
    data["headers"] = {"Authorization": f"Bearer {data['token']}"}
    data["base"] = f"{API}/conversations/{data['id']}"
    return data


def say(client: TestClient, conversation: dict, text: str):
    return client.post(
        conversation["base"] + "/messages",
        json={"text": text},
        headers=conversation["headers"],
    )


def handover(client: TestClient, conversation: dict, path: str = "", **kwargs):
    method = kwargs.pop("method", "post")
    headers = kwargs.pop("headers", conversation["headers"])
    return getattr(client, method)(
        conversation["base"] + "/handover" + path, headers=headers, **kwargs
    )


def queued(client, conversation, assistant: Assistant) -> int:
    assistant.handover.set_available(KARI, True)
    status = handover(client, conversation).json()
    assert status["state"] == "queued", status
    return only_handover(assistant, conversation["id"]).id


def only_handover(assistant: Assistant, conversation_id: str) -> Handover:
    with assistant.sessions() as session:
        return session.scalars(
            select(Handover).where(Handover.conversation_id == conversation_id)
        ).one()


def events(client, conversation, after: int = 0) -> list[dict]:
    response = handover(
        client, conversation, "/events", method="get", params={"after": after}
    )
    assert response.status_code == 200, response.text
    return response.json()["events"]


# --- When a person is offered, and what is possible ---------------------------


def test_asking_for_a_person_when_open_with_an_advisor_offers_the_live_chat(
    client, conversation, fast_assistant
):
    fast_assistant.handover.set_available(KARI, True)

    reply = say(client, conversation, "jeg vil snakke med et menneske").json()

    assert reply["outcome"] == "handover"
    assert "Koble til en rådgiver" in reply["html"]
    status = handover(client, conversation, method="get").json()
    assert status["availability"]["reason"] == "open"
    assert status["availability"]["live"] is True


def test_open_but_nobody_available_says_so_and_offers_a_message(
    client, conversation, fast_assistant
):
    reply = say(client, conversation, "jeg vil snakke med et menneske").json()

    assert reply["outcome"] == "handover"
    assert "ingen rådgivere er ledige" in reply["html"]
    assert "tel:22334455" in reply["html"]
    assert "legge igjen en melding" in reply["html"]
    status = handover(client, conversation).json()
    assert status["state"] == "none"
    assert status["availability"]["reason"] == "busy"


def test_closed_at_night_shows_the_next_opening_and_the_phone(
    client, conversation, fast_assistant, clock
):
    fast_assistant.handover.set_available(KARI, True)
    clock.now = NIGHT

    reply = say(client, conversation, "jeg vil snakke med et menneske").json()

    assert "ikke på jobb nå" in reply["html"]
    assert "torsdag 4.3. kl. 09:00" in reply["html"]
    assert "tel:22334455" in reply["html"]
    assert handover(client, conversation).json()["state"] == "none"


def test_public_holiday_is_closed_with_its_name(client, conversation, clock):
    clock.now = ASCENSION_DAY

    reply = say(client, conversation, "jeg vil snakke med et menneske").json()

    assert "Kristi himmelfartsdag" in reply["html"]
    status = handover(client, conversation, method="get").json()
    assert status["availability"]["reason"] == "holiday"
    assert status["availability"]["days"][0]["holiday"] == "Kristi himmelfartsdag"


def test_an_advisor_whose_browser_went_quiet_is_not_available(
    client, conversation, fast_assistant, clock
):
    fast_assistant.handover.set_available(KARI, True)
    clock.advance(fast_assistant.settings.handover_heartbeat_seconds + 1)

    status = handover(client, conversation, method="get").json()

    assert status["availability"]["reason"] == "busy"


def test_accepting_the_offer_on_a_marked_intent_records_why(
    client, conversation, fast_assistant
):
    fast_assistant.handover.set_available(KARI, True)
    person = say(client, conversation, "jeg vil bli medlem").json()["buttons"][0]

    reply = say(client, conversation, person["payload"]).json()
    handover_id = queued(client, conversation, fast_assistant)

    assert reply["outcome"] == "handover"
    with fast_assistant.sessions() as session:
        assert session.get(Handover, handover_id).reason == "offer"


def test_two_declines_then_accepting_gives_a_person(
    client, conversation, fast_assistant
):
    say(client, conversation, "hva blir været i morgen")
    second = say(client, conversation, "oppskrift på pannekaker").json()
    person = next(b for b in second["buttons"] if b["label"] == "Snakk med en person")

    reply = say(client, conversation, person["payload"]).json()
    handover_id = queued(client, conversation, fast_assistant)

    assert reply["outcome"] == "handover"
    with fast_assistant.sessions() as session:
        assert session.get(Handover, handover_id).reason == "declines"


def test_thumbs_down_then_a_wish_for_help_goes_to_a_person(
    client, conversation, fast_assistant
):
    seq = say(client, conversation, "ferie").json()["seq"]
    client.post(
        f"{conversation['base']}/messages/{seq}/feedback",
        json={"rating": "down"},
        headers=conversation["headers"],
    )

    reply = say(client, conversation, "fortell meg en vits").json()

    assert reply["outcome"] == "handover"
    handover_id = queued(client, conversation, fast_assistant)
    with fast_assistant.sessions() as session:
        assert session.get(Handover, handover_id).reason == "thumbs_down"


def test_without_a_thumbs_down_one_decline_does_not_hand_over(client, conversation):
    say(client, conversation, "ferie")

    assert say(client, conversation, "fortell meg en vits").json()["outcome"] == (
        "fallback"
    )


# --- The queue and the live chat ---------------------------------------------


def test_queue_position_topic_and_masked_transcript_reach_the_advisor(
    client, fast_assistant
):
    first, second = (client.post(f"{API}/conversations").json() for _ in range(2))
    for data in (first, second):
        data["headers"] = {"Authorization": f"Bearer {data['token']}"}
        data["base"] = f"{API}/conversations/{data['id']}"
    say(client, first, "ferie, ring meg på 98765432")
    fast_assistant.handover.set_available(KARI, True)

    assert handover(client, first).json()["position"] == 1
    assert handover(client, second).json()["position"] == 2
    entry = fast_assistant.handover.queue_entries()[0]
    seen = fast_assistant.handover.conversation(KARI, entry.id)

    assert entry.topic_title == "Ferie og feriepenger"
    assert entry.identity is None
    member_lines = [line.text for line in seen.transcript if line.role == "member"]
    assert member_lines == ["ferie, ring meg på [telefonnummer]"]


def test_member_and_advisor_chat_through_numbered_events(
    client, conversation, fast_assistant
):
    handover_id = queued(client, conversation, fast_assistant)
    fast_assistant.handover.claim(KARI, handover_id)

    sent = handover(
        client, conversation, "/messages", json={"text": "Hei, mitt nr er 98765432"}
    )
    fast_assistant.handover.advisor_send(KARI, handover_id, "Hei! Hva gjelder det?")
    shown = events(client, conversation)

    assert sent.status_code == 201
    assert [e["kind"] for e in shown] == ["queued", "joined", "member", "advisor"]
    assert [e["seq"] for e in shown] == [1, 2, 3, 4]
    assert shown[2]["text"] == "Hei, mitt nr er [telefonnummer]"
    assert shown[3]["advisor"] is None
    assert handover(client, conversation, method="get").json()["state"] == "active"


def test_member_events_never_carry_the_advisors_login_name(
    client, conversation, fast_assistant
):
    handover_id = queued(client, conversation, fast_assistant)
    fast_assistant.handover.claim(KARI, handover_id)
    fast_assistant.handover.advisor_send(KARI, handover_id, "Hei! Hva gjelder det?")

    response = handover(client, conversation, "/events", method="get")
    staff_sees = fast_assistant.handover.conversation(KARI, handover_id).events

    assert [e["kind"] for e in response.json()["events"]][-2:] == [
        "joined",
        "advisor",
    ]
    assert all(e["advisor"] is None for e in response.json()["events"])
    assert KARI.username not in response.text
    assert {e.advisor_name for e in staff_sees if e.kind != "queued"} == {"kari"}


def test_widget_names_no_advisor_in_its_texts():
    texts = json.loads(WIDGET_TEXTS.read_text(encoding="utf-8"))

    assert texts["handover_joined"] == "En rådgiver tok samtalen."
    assert "{advisor}" not in json.dumps(texts, ensure_ascii=False)


def test_advisor_words_are_masked_except_the_office_contact_details(
    client, conversation, fast_assistant
):
    handover_id = queued(client, conversation, fast_assistant)
    fast_assistant.handover.claim(KARI, handover_id)
    office = fast_assistant.models.require().view.kb.organisation.email
    assert office  # the test's knowledge base names the office's address

    fast_assistant.handover.advisor_send(
        KARI,
        handover_id,
        f"Jeg har notert 98765432 og kari@eksempel.no. Skriv til {office.upper()}.",
    )
    shown = events(client, conversation)[-1]

    assert shown["text"] == (
        f"Jeg har notert [telefonnummer] og [e-post]. Skriv til {office.upper()}."
    )
    with fast_assistant.sessions() as session:
        stored = " ".join(t or "" for t in session.scalars(select(HandoverEvent.text)))
    assert "98765432" not in stored and "kari@eksempel.no" not in stored


def test_reconnecting_delivers_every_missed_event_exactly_once_in_order(
    client, conversation, fast_assistant
):
    handover_id = queued(client, conversation, fast_assistant)
    fast_assistant.handover.claim(KARI, handover_id)
    seen = events(client, conversation)
    # The member's connection drops; the advisor keeps writing.
    for n in range(3):
        fast_assistant.handover.advisor_send(KARI, handover_id, f"melding {n}")

    stream = handover(
        client,
        conversation,
        "/stream",
        method="get",
        headers={**conversation["headers"], "Last-Event-ID": str(seen[-1]["seq"])},
    )
    again = events(client, conversation, after=seen[-1]["seq"])

    ids = [
        int(line[4:]) for line in stream.text.splitlines() if line.startswith("id: ")
    ]
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert ids == [3, 4, 5]
    assert [e["text"] for e in again] == ["melding 0", "melding 1", "melding 2"]
    assert "event: status" in stream.text


def test_stream_with_after_parameter_and_a_garbage_last_event_id(
    client, conversation, fast_assistant
):
    queued(client, conversation, fast_assistant)

    stream = handover(
        client,
        conversation,
        "/stream",
        method="get",
        params={"after": 0},
        headers={**conversation["headers"], "Last-Event-ID": "'; DROP TABLE x; --"},
    )

    assert stream.status_code == 200
    assert "id: 1\nevent: handover" in stream.text


def test_the_same_live_message_sent_twice_is_stored_once(
    client, conversation, fast_assistant
):
    queued(client, conversation, fast_assistant)
    body = {"text": "hallo?", "client_id": "abcdefgh1234"}

    first = handover(client, conversation, "/messages", json=body).json()
    second = handover(client, conversation, "/messages", json=body).json()

    assert first["seq"] == second["seq"]
    assert [e["kind"] for e in events(client, conversation)] == ["queued", "member"]


def test_the_assistant_is_silent_while_a_person_has_the_conversation(
    client, conversation, fast_assistant
):
    handover_id = queued(client, conversation, fast_assistant)
    fast_assistant.handover.claim(KARI, handover_id)
    before = message_count(fast_assistant, conversation["id"])

    refused = say(client, conversation, "ferie")

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "handover_active"
    assert message_count(fast_assistant, conversation["id"]) == before
    fast_assistant.handover.hand_back(KARI, handover_id)
    assert say(client, conversation, "ferie").json()["outcome"] == "answer"
    assert events(client, conversation)[-1]["kind"] == "returned"


def test_the_assistant_is_silent_while_the_member_waits_in_the_queue(
    client, conversation, fast_assistant
):
    queued(client, conversation, fast_assistant)

    assert say(client, conversation, "ferie").status_code == 409


def message_count(assistant: Assistant, conversation_id: str) -> int:
    with assistant.sessions() as session:
        rows = session.scalars(
            select(Message).where(Message.conversation_id == conversation_id)
        )
        return len(list(rows))


def test_member_leaving_the_queue_ends_the_handover(
    client, conversation, fast_assistant
):
    queued(client, conversation, fast_assistant)

    left = handover(client, conversation, method="delete").json()

    assert left["state"] == "ended"
    assert fast_assistant.handover.queue_entries() == []
    assert say(client, conversation, "ferie").json()["outcome"] == "answer"


def test_advisor_ending_shows_ended_and_only_the_holder_may_end(
    client, conversation, fast_assistant
):
    handover_id = queued(client, conversation, fast_assistant)
    fast_assistant.handover.claim(KARI, handover_id)

    with pytest.raises(HandoverConflict):
        fast_assistant.handover.end(OLA, handover_id)
    fast_assistant.handover.end(KARI, handover_id)

    assert handover(client, conversation, method="get").json()["state"] == "ended"
    assert events(client, conversation)[-1]["kind"] == "ended"
    with fast_assistant.sessions() as session:
        row = session.get(Handover, handover_id)
        # The dashboard reads these.
        assert row.requested_at and row.first_claimed_at and row.ended_at


def test_typing_is_shown_for_a_while_on_both_sides(
    client, conversation, fast_assistant, clock
):
    handover_id = queued(client, conversation, fast_assistant)
    fast_assistant.handover.claim(KARI, handover_id)

    handover(client, conversation, "/typing")
    fast_assistant.handover.advisor_typing(KARI, handover_id)

    assert fast_assistant.handover.held_by(KARI)[0].member_typing
    assert handover(client, conversation, method="get").json()["advisor_typing"]
    clock.advance(30)
    assert not fast_assistant.handover.held_by(KARI)[0].member_typing


def test_a_silent_advisor_loses_the_conversation_back_to_the_queue(
    client, conversation, fast_assistant, clock
):
    handover_id = queued(client, conversation, fast_assistant)
    fast_assistant.handover.claim(KARI, handover_id)
    clock.advance(fast_assistant.settings.handover_heartbeat_seconds / 2)
    fast_assistant.handover.beat(KARI)
    clock.advance(fast_assistant.settings.handover_heartbeat_seconds / 2 + 1)

    assert fast_assistant.handover.sweep() == 0  # the beat kept it
    clock.advance(fast_assistant.settings.handover_heartbeat_seconds)
    assert fast_assistant.handover.sweep() == 1

    status = handover(client, conversation, method="get").json()
    assert status["state"] == "queued"
    assert status["position"] == 1
    assert events(client, conversation)[-1]["kind"] == "requeued"
    fast_assistant.handover.set_available(OLA, True)
    assert fast_assistant.handover.claim(OLA, handover_id).advisor_name == "ola"


def test_two_advisors_claiming_at_once_only_one_wins(fast_assistant, clock):
    """Real threads against the real database, many times over."""
    chat = fast_assistant.chat
    fast_assistant.handover.set_available(KARI, True)
    rounds = 8
    for _ in range(rounds):
        new = chat.start()
        fast_assistant.handover.request(new.id, new.token)
    ids = [entry.id for entry in fast_assistant.handover.queue_entries()]
    assert len(ids) == rounds

    for handover_id in ids:
        results = claim_at_once(fast_assistant, handover_id, KARI, OLA)

        assert sorted(results.values()) == ["lost", "won"]
        with fast_assistant.sessions() as session:
            row = session.get(Handover, handover_id)
            joined = session.scalars(
                select(HandoverEvent).where(
                    HandoverEvent.handover_id == handover_id,
                    HandoverEvent.kind == "joined",
                )
            ).all()
        winner = next(name for name, result in results.items() if result == "won")
        assert row.advisor_name == winner
        assert len(joined) == 1


def claim_at_once(
    assistant: Assistant, handover_id: int, *advisors: Advisor
) -> dict[str, str]:
    """Each advisor claims in their own thread, released together."""
    barrier = threading.Barrier(len(advisors))
    results: dict[str, str] = {}

    def take(advisor: Advisor) -> None:
        barrier.wait()
        try:
            assistant.handover.claim(advisor, handover_id)
            results[advisor.username] = "won"
        except AlreadyClaimed:
            results[advisor.username] = "lost"

    threads = [threading.Thread(target=take, args=(a,)) for a in advisors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


# --- Identity only by consent ------------------------------------------------


def test_a_logged_in_member_who_consents_is_shown_to_the_advisor(
    client, conversation, fast_assistant
):
    client.app_state.member_identity = lambda request: VerifiedMember(
        "M-1001", "Kari Nordmann"
    )
    fast_assistant.handover.set_available(KARI, True)

    status = handover(client, conversation, json={"share_identity": True}).json()

    assert status["identity_available"] is True
    assert status["identity_shared"] is True
    entry = fast_assistant.handover.queue_entries()[0]
    assert entry.identity == {"member_id": "M-1001", "name": "Kari Nordmann"}
    # The live stream keeps telling the member that they are not anonymous.
    stream = handover(client, conversation, "/stream", method="get")
    assert '"identity_shared": true' in stream.text


def test_a_logged_in_member_who_does_not_consent_stays_anonymous(
    client, conversation, fast_assistant
):
    client.app_state.member_identity = lambda request: VerifiedMember(
        "M-1001", "Kari Nordmann"
    )
    fast_assistant.handover.set_available(KARI, True)

    status = handover(client, conversation, json={"share_identity": False}).json()

    assert status["identity_shared"] is False
    assert fast_assistant.handover.queue_entries()[0].identity is None
    assert_nowhere(fast_assistant, "M-1001", "Kari Nordmann")
    stream = handover(client, conversation, "/stream", method="get")
    assert '"identity_shared": false' in stream.text


def test_consent_without_a_login_stores_no_identity(
    client, conversation, fast_assistant
):
    fast_assistant.handover.set_available(KARI, True)

    status = handover(client, conversation, json={"share_identity": True}).json()

    assert status["identity_available"] is False
    assert status["identity_shared"] is False
    assert fast_assistant.handover.queue_entries()[0].identity is None


def assert_nowhere(assistant: Assistant, *values: str) -> None:
    """None of ``values`` is stored in any handover or chat table."""
    with assistant.sessions() as session:
        rows = [
            *session.scalars(select(Handover)),
            *session.scalars(select(HandoverEvent)),
            *session.scalars(select(Message)),
        ]
    dumped = repr([vars(row) for row in rows])
    for value in values:
        assert value not in dumped


# --- Leaving a message --------------------------------------------------------


def test_a_message_left_becomes_a_ticket_with_the_contact_only_there(
    client, conversation, fast_assistant, caplog
):
    caplog.set_level(logging.DEBUG)
    say(client, conversation, "ferie")
    body = {
        "name": "Kari",
        "contact": "kari@example.no",
        "message": "Ring meg om ferien, nr 98765432",
        "consent": True,
    }

    response = handover(client, conversation, "/ticket", json=body)

    assert response.status_code == 201
    ticket = fast_assistant.handover.tickets()[0]
    assert ticket.contact == "kari@example.no"
    assert ticket.message == "Ring meg om ferien, nr [telefonnummer]"
    assert ticket.topic_title == "Ferie og feriepenger"
    assert "samtykker" in ticket.consent_text
    assert "kari@example.no" not in caplog.text
    assert_nowhere(fast_assistant, "kari@example.no")
    fast_assistant.handover.close_ticket(KARI, ticket.id)
    assert fast_assistant.handover.tickets() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consent": False}, "consent"),
        ({"contact": ""}, "contact"),
        ({"contact": "<script>alert(1)</script>"}, "contact"),
        ({"contact": "x' OR 1=1 --"}, "contact"),
        ({"contact": "1" * 300}, "contact"),
        ({"message": "   "}, "message"),
        ({"message": "ж" * 5000}, "message"),
        ({"name": "n" * 500}, "name"),
    ],
    ids=["no-consent", "empty", "xss", "sql", "huge", "blank", "too-long", "long-name"],
)
def test_a_bad_contact_form_is_refused_naming_the_field(
    client, conversation, fast_assistant, change, field
):
    body = {"contact": "+47 987 65 432", "message": "Hjelp", "consent": True, **change}

    response = handover(client, conversation, "/ticket", json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_ticket"
    assert error["details"]["field"] == field
    assert fast_assistant.handover.tickets() == []


@pytest.mark.parametrize(
    "body",
    [{"contact": 12, "message": "x", "consent": True}, {"consent": "yes"}, []],
    ids=["number", "string-bool", "list"],
)
def test_malformed_ticket_bodies_get_the_one_error_shape(client, conversation, body):
    response = handover(client, conversation, "/ticket", json=body)

    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message", "details"}


def test_tickets_are_deleted_under_the_conversation_retention(
    client, conversation, fast_assistant, clock
):
    body = {"contact": "98765432", "message": "Hjelp", "consent": True}
    handover(client, conversation, "/ticket", json=body)

    clock.advance(
        timedelta(days=fast_assistant.settings.retention_days + 1).total_seconds()
    )

    assert fast_assistant.handover.tickets() == []
    with fast_assistant.sessions() as session:
        assert session.scalars(select(HandoverTicket)).all() == []


def test_deleting_the_conversation_deletes_its_handover_and_ticket(
    client, conversation, fast_assistant
):
    queued(client, conversation, fast_assistant)
    body = {"contact": "98765432", "message": "Hjelp", "consent": True}
    handover(client, conversation, "/ticket", json=body)

    client.delete(conversation["base"], headers=conversation["headers"])

    with fast_assistant.sessions() as session:
        assert session.scalars(select(Handover)).all() == []
        assert session.scalars(select(HandoverEvent)).all() == []
        assert session.scalars(select(HandoverTicket)).all() == []


# --- Access and hostile input -------------------------------------------------


@pytest.mark.parametrize("path", ["", "/events", "/stream"])
def test_handover_endpoints_need_the_conversation_token(client, conversation, path):
    url = conversation["base"] + "/handover" + path

    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get(f"{API}/conversations/nothex/handover").status_code == 404


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "x" * 2001,
        "<img src=x onerror=alert(1)>",
        "'; DROP TABLE handover; --",
        "Привет",
    ],
    ids=["empty", "blank", "huge", "xss", "sql", "russian"],
)
def test_live_messages_are_checked_like_chat_messages(
    client, conversation, fast_assistant, text
):
    queued(client, conversation, fast_assistant)

    response = handover(client, conversation, "/messages", json={"text": text})

    if text.strip() and len(text) <= 2000:
        assert response.status_code == 201
        assert events(client, conversation)[-1]["text"] == text
    else:
        assert response.status_code == 422
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_writing_to_nobody_is_refused(client, conversation):
    response = handover(client, conversation, "/messages", json={"text": "hallo"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "handover_not_found"


def test_a_real_member_login_is_shared_only_with_consent(database_url, tmp_path):
    """The member portal's signed token (veiviser.members), not a stub."""
    from test_members_support import login_settings, member_token

    settings = settings_for(database_url, write_kb(tmp_path), **login_settings())
    assistant = open_assistant(settings)
    assistant.handover.clock = FrozenClock(OPEN_MOMENT)
    try:
        with TestClient(create_app(settings, assistant)) as client:
            assistant.handover.set_available(KARI, True)
            member = {"X-Member-Token": member_token("demo-kari")}
            shared, anonymous = (
                client.post(f"{API}/conversations").json() for _ in "ab"
            )
            for data, share in ((shared, True), (anonymous, False)):
                response = client.post(
                    f"{API}/conversations/{data['id']}/handover",
                    json={"share_identity": share},
                    headers={"Authorization": f"Bearer {data['token']}", **member},
                )
                assert response.json()["identity_available"] is True
            entries = {e.conversation_id: e for e in assistant.handover.queue_entries()}
    finally:
        assistant.close()

    assert entries[shared["id"]].identity["member_id"] == "demo-kari"
    assert entries[anonymous["id"]].identity is None
