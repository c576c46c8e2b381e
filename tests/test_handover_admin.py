"""The advisors' pages: queue, claiming, live chat, tickets, opening hours, e-mail."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from servers import free_port
from test_admin_support import add_staff, login, page_csrf, post_form
from test_handover import OPEN_MOMENT, FrozenClock, VerifiedMember
from test_store_support import open_assistant, settings_for, write_kb
from veiviser.service import Assistant
from veiviser.service.staff import Role
from veiviser.web import create_app

pytest_plugins = ["test_store_support"]

API = "/api/v1"


@pytest.fixture
def assistant_at_noon(database_url: str, tmp_path: Path) -> Iterator[Assistant]:
    settings = settings_for(
        database_url,
        write_kb(tmp_path),
        handover_stream_seconds=0.3,
        handover_poll_seconds=0.05,
    )
    ready = open_assistant(settings)
    ready.handover.clock = FrozenClock(OPEN_MOMENT)
    yield ready
    ready.close()


@pytest.fixture
def app(assistant_at_noon: Assistant):
    return create_app(assistant_at_noon.settings, assistant_at_noon)


def advisor_client(app, assistant: Assistant, name: str) -> TestClient:
    client = TestClient(app)
    add_staff(assistant, Role.ADVISOR, name)
    assert login(client, name).status_code == 303
    return client


@pytest.fixture
def kari(app, assistant_at_noon) -> Iterator[TestClient]:
    with advisor_client(app, assistant_at_noon, "kari") as client:
        yield client


@pytest.fixture
def member(app) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def open_chat(member: TestClient) -> dict:
    data = member.post(f"{API}/conversations").json()
    data["headers"] = {"Authorization": f"Bearer {data['token']}"}
    data["base"] = f"{API}/conversations/{data['id']}"
    return data


def become_available(client: TestClient) -> None:
    response = post_form(client, "/admin/handover/presence", {"available": "1"})
    assert response.status_code == 303


def queue_member(member: TestClient, share: bool = False) -> dict:
    chat = open_chat(member)
    member.post(
        chat["base"] + "/messages", json={"text": "ferie"}, headers=chat["headers"]
    )
    status = member.post(
        chat["base"] + "/handover",
        json={"share_identity": share},
        headers=chat["headers"],
    ).json()
    assert status["state"] == "queued", status
    return chat


def test_advisor_becomes_available_and_sees_the_anonymous_queue(kari, member):
    become_available(kari)
    queue_member(member)

    page = kari.get("/admin/handover")

    assert page.status_code == 200
    assert "Du er tilgjengelig" in page.text
    assert "Anonym" in page.text
    assert "Ferie og feriepenger" in page.text
    assert 'data-poll="/admin/handover/queue"' in page.text


def test_taking_a_conversation_opens_it_and_a_second_advisor_is_turned_away(
    app, assistant_at_noon, kari, member
):
    become_available(kari)
    queue_member(member)
    handover_id = assistant_at_noon.handover.queue_entries()[0].id

    taken = post_form(kari, f"/admin/handover/{handover_id}/claim")
    with advisor_client(app, assistant_at_noon, "ola") as ola:
        late = post_form(ola, f"/admin/handover/{handover_id}/claim")

    assert taken.headers["location"] == f"/admin/handover/{handover_id}"
    assert late.status_code == 409
    assert "En annen rådgiver tok samtalen først" in late.text
    page = kari.get(f"/admin/handover/{handover_id}")
    assert "Samtalen med assistenten" in page.text
    assert 'id="live-form"' in page.text


def test_the_member_is_named_only_when_they_consented(
    app, assistant_at_noon, kari, member
):
    app.state.member_identity = lambda request: VerifiedMember("M-77", "Ola Nordmann")
    become_available(kari)
    queue_member(member, share=False)
    queue_member(member, share=True)

    page = kari.get("/admin/handover").text

    assert page.count("Ola Nordmann (medlemsnr. M-77)") == 1
    assert page.count("Anonym") == 1


def test_advisor_writes_and_reads_the_member_through_the_stream(
    assistant_at_noon, kari, member
):
    become_available(kari)
    chat = queue_member(member)
    handover_id = assistant_at_noon.handover.queue_entries()[0].id
    post_form(kari, f"/admin/handover/{handover_id}/claim")
    token = page_csrf(kari, f"/admin/handover/{handover_id}")
    member.post(
        chat["base"] + "/handover/messages",
        json={"text": "<b>hei</b>"},
        headers=chat["headers"],
    )

    sent = kari.post(
        f"/admin/handover/{handover_id}/messages",
        data={"text": "Hei, jeg heter Kari."},
        headers={"X-CSRF-Token": token},
    )
    stream = kari.get(f"/admin/handover/{handover_id}/stream?after=0")
    member_sees = member.get(
        chat["base"] + "/handover/events", headers=chat["headers"]
    ).json()["events"]

    assert sent.status_code == 201
    assert '"text": "<b>hei</b>"' in stream.text
    assert '"member_typing": false' in stream.text
    assert member_sees[-1]["text"] == "Hei, jeg heter Kari."
    assert member_sees[-1]["advisor"] is None


def test_an_empty_advisor_message_is_refused_in_norwegian(
    assistant_at_noon, kari, member
):
    become_available(kari)
    queue_member(member)
    handover_id = assistant_at_noon.handover.queue_entries()[0].id
    post_form(kari, f"/admin/handover/{handover_id}/claim")

    response = post_form(kari, f"/admin/handover/{handover_id}/messages", {"text": " "})

    assert response.status_code == 422
    assert response.json()["error"]["message"] == "Skriv en melding først."


def test_handing_back_lets_the_assistant_answer_again(assistant_at_noon, kari, member):
    become_available(kari)
    chat = queue_member(member)
    handover_id = assistant_at_noon.handover.queue_entries()[0].id
    post_form(kari, f"/admin/handover/{handover_id}/claim")

    back = post_form(kari, f"/admin/handover/{handover_id}/return")
    reply = member.post(
        chat["base"] + "/messages", json={"text": "ferie"}, headers=chat["headers"]
    )

    assert back.status_code == 303
    assert reply.json()["outcome"] == "answer"
    assert "ikke du" in kari.get(f"/admin/handover/{handover_id}").text


def test_tickets_show_the_contact_and_can_be_closed(assistant_at_noon, kari, member):
    chat = open_chat(member)
    member.post(
        chat["base"] + "/handover/ticket",
        json={
            "contact": "kari@example.no",
            "message": "<script>x</script>",
            "consent": True,
        },
        headers=chat["headers"],
    )
    ticket_id = assistant_at_noon.handover.tickets()[0].id

    page = kari.get("/admin/handover/tickets")
    closed = post_form(kari, f"/admin/handover/tickets/{ticket_id}/close")

    assert "kari@example.no" in page.text
    assert "<script>x</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert closed.headers["location"] == "/admin/handover/tickets?done=1"
    assert "Ingen åpne meldinger" in kari.get("/admin/handover/tickets").text


def test_saving_the_week_and_an_exception_changes_availability(assistant_at_noon, kari):
    week = {f"day_{d}": "" for d in range(7)}
    week["day_2"] = "08:00-11:30, 12.00–16:00"

    saved = post_form(kari, "/admin/handover/hours", week)
    added = post_form(
        kari,
        "/admin/handover/hours/exceptions",
        {"day": "2027-03-03", "special": "", "note": "<b>Stengt for kurs</b>"},
    )

    assert saved.status_code == added.status_code == 303
    hours = assistant_at_noon.handover.opening_hours()
    assert [i.label() for i in hours.week[2]] == ["08:00–11:30", "12:00–16:00"]
    assert assistant_at_noon.handover.availability().reason == "exception"
    page = kari.get("/admin/handover/hours").text
    assert "&lt;b&gt;Stengt for kurs&lt;/b&gt;" in page
    post_form(kari, "/admin/handover/hours/exceptions/2027-03-03/delete")
    assert assistant_at_noon.handover.availability().reason == "busy"


@pytest.mark.parametrize(
    "value",
    [
        "9-15",
        "15:00-09:00",
        "<script>",
        "'; DROP TABLE handover_hours; --",
        "x" * 5000,
        "٠٩:٠٠-١٥:٠٠",
    ],
    ids=["no-minutes", "backwards", "xss", "sql", "huge", "arabic-digits"],
)
def test_a_bad_week_is_refused_with_a_norwegian_form_error(
    assistant_at_noon, kari, value
):
    week = {f"day_{d}": "09:00-15:00" for d in range(5)}
    week["day_0"] = value

    response = post_form(kari, "/admin/handover/hours", week)

    assert response.status_code == 422
    assert "Åpningstiden for Mandag er ikke gyldig" in response.text
    assert "<script>" not in response.text.split("<main", 1)[1].split("</main>")[0]
    assert [i.label() for i in assistant_at_noon.handover.opening_hours().week[0]] == [
        "09:00–15:00"
    ]


def test_overlapping_hours_name_the_day(assistant_at_noon, kari):
    week = {f"day_{d}": "09:00-15:00" for d in range(5)}
    week["day_2"] = "08:00-12:00, 11:00-16:00"

    response = post_form(kari, "/admin/handover/hours", week)

    assert response.status_code == 422
    assert "Åpningstidene for Onsdag overlapper" in response.text
    assert [i.label() for i in assistant_at_noon.handover.opening_hours().week[2]] == [
        "09:00–15:00"
    ]


def test_open_all_day_is_written_to_23_59_and_24_00_says_so(assistant_at_noon, kari):
    week = {f"day_{d}": "09:00-15:00" for d in range(5)}

    refused = post_form(kari, "/admin/handover/hours", {**week, "day_5": "00:00-24:00"})
    special = post_form(
        kari,
        "/admin/handover/hours/exceptions",
        {"day": "2027-03-03", "special": "00:00-24.00"},
    )
    saved = post_form(kari, "/admin/handover/hours", {**week, "day_5": "00:00-23:59"})

    for response in (refused, special):
        assert response.status_code == 422
        assert "kan ikke slutte 24:00; 23:59 er seneste sluttid" in response.text
    assert "Åpningstiden for Lørdag" in refused.text
    assert "Åpningstiden for 2027-03-03" in special.text
    assert saved.status_code == 303
    week_hours = assistant_at_noon.handover.opening_hours().week
    assert [i.label() for i in week_hours[5]] == ["00:00–23:59"]


@pytest.mark.parametrize("day", ["", "2027-02-30", "i morgen", "9" * 300])
def test_a_bad_exception_date_is_refused(kari, day):
    response = post_form(kari, "/admin/handover/hours/exceptions", {"day": day})

    assert response.status_code == 422
    assert "Datoen er ikke gyldig" in response.text


def test_other_roles_cannot_open_the_advisor_pages(app, assistant_at_noon):
    with TestClient(app) as editor:
        add_staff(assistant_at_noon, Role.EDITOR, "redaktor")
        login(editor, "redaktor")

        assert editor.get("/admin/handover").status_code == 403


# --- E-mail about a ticket ---------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list]]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""
    from aiosmtpd.controller import Controller

    received: list = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received
    finally:
        controller.stop()


def test_a_ticket_sends_an_email_without_personal_data(
    database_url, tmp_path, smtp_server
):
    port, received = smtp_server
    settings = settings_for(
        database_url,
        write_kb(tmp_path),
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="chat@forbundet.example",
        smtp_to=("radgivere@forbundet.example",),
        public_url="https://chat.forbundet.example",
    )
    assistant = open_assistant(settings)
    try:
        with TestClient(create_app(settings, assistant)) as member:
            chat = open_chat(member)
            member.post(
                chat["base"] + "/messages",
                json={"text": "ferie"},
                headers=chat["headers"],
            )
            member.post(
                chat["base"] + "/handover/ticket",
                json={
                    "contact": "99887766",
                    "message": "Hjelp med ferie",
                    "consent": True,
                },
                headers=chat["headers"],
            )
            wait_for(lambda: received)
    finally:
        assistant.close()

    parsed = message_from_bytes(received[0].content, policy=default)
    mail = parsed["Subject"] + "\n" + parsed.get_content()
    assert received[0].rcpt_tos == ["radgivere@forbundet.example"]
    assert "https://chat.forbundet.example/admin/handover/tickets" in mail
    assert "99887766" not in mail
    assert "Hjelp med ferie" not in mail


def wait_for(condition, limit: float = 20.0) -> None:
    """Wait for a background delivery; fail (not hang) if it never comes."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "nothing arrived"
        time.sleep(0.05)
