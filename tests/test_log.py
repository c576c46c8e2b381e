"""The conversation log and transcripts, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from test_admin_support import logged_in_client
from veiviser.review.log import LogFilter, read_log
from veiviser.service import Assistant
from veiviser.service.staff import Role
from veiviser.store.models import Conversation, Feedback, Message
from veiviser.web import create_app

pytest_plugins = ["test_store_support", "test_admin_support"]

API = "/api/v1"


@pytest.fixture
def api(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(assistant.settings, assistant)) as client:
        yield client


@pytest.fixture
def reader(assistant: Assistant) -> TestClient:
    return logged_in_client(assistant, Role.TRAINER)


def chat(api: TestClient, *texts: str) -> dict:
    opened = api.post(f"{API}/conversations", headers={"X-Visitor-Id": "v-123"})
    conversation = opened.json()
    headers = {"Authorization": f"Bearer {conversation['token']}"}
    conversation["headers"] = headers
    conversation["replies"] = [
        api.post(
            f"{API}/conversations/{conversation['id']}/messages",
            json={"text": text},
            headers=headers,
        ).json()
        for text in texts
    ]
    return conversation


def store_exchanges(assistant: Assistant, count: int, start: datetime) -> None:
    """``count`` answered exchanges, one a minute from ``start``."""
    with assistant.sessions.begin() as session:
        session.add(Conversation(id="a" * 32, token_hash="0" * 64, state={}))
        for number in range(count):
            at = start + timedelta(minutes=number)
            session.add_all(
                [
                    Message(
                        conversation_id="a" * 32,
                        seq=2 * number + 2,
                        role="member",
                        text=f"spørsmål {number}",
                        language="nb",
                        created_at=at,
                    ),
                    Message(
                        conversation_id="a" * 32,
                        seq=2 * number + 3,
                        role="assistant",
                        outcome="answer",
                        intent="ferie",
                        confidence=0.9,
                        created_at=at,
                    ),
                ]
            )


def test_log_shows_masked_messages_with_their_replies(api, reader):
    chat(api, "ferie", "mitt nummer er 12345678901, hva blir været")

    page = reader.get("/admin/log")

    assert page.status_code == 200
    assert "«ferie»" in page.text
    assert "12345678901" not in page.text
    assert "[fødselsnummer]" in page.text or "[nummer]" in page.text
    assert "avvist" in page.text


@pytest.mark.parametrize(
    "query, shown, hidden",
    [
        ({"outcome": "declined"}, "hva blir været", "«ferie»"),
        ({"outcome": "answered"}, "«ferie»", "hva blir været"),
        ({"intent": "ferie"}, "«ferie»", "hva blir været"),
        ({"feedback": "down"}, "«ferie»", "hva blir været"),
        ({"feedback": "none"}, "hva blir været", "«ferie»"),
        ({"language": "nb"}, "hva blir været", "«ferie»"),
    ],
    ids=["declined", "answered", "intent", "thumbs-down", "no-feedback", "language"],
)
def test_log_filters_by_outcome_intent_feedback_and_language(
    api, reader, query, shown, hidden
):
    conversation = chat(api, "ferie", "hva blir været i morgen")
    first = conversation["replies"][0]
    api.post(
        f"{API}/conversations/{conversation['id']}/messages/{first['seq']}/feedback",
        json={"rating": "down", "comment": "for kort"},
        headers=conversation["headers"],
    )

    page = reader.get("/admin/log", params=query).text

    assert shown in page
    assert hidden not in page


def test_log_filters_by_oslo_dates(assistant, reader):
    store_exchanges(assistant, 3, datetime(2026, 3, 1, 22, 30, tzinfo=UTC))

    # 22:30 UTC on 1 March is 23:30 in Oslo; 22:32 is still 1 March there.
    first_day = reader.get(
        "/admin/log", params={"start": "2026-03-01", "end": "2026-03-01"}
    )
    next_day = reader.get("/admin/log", params={"start": "2026-03-02"})

    assert "spørsmål 0" in first_day.text and "spørsmål 2" in first_day.text
    assert "spørsmål" not in next_day.text


def test_log_pages_newest_first_without_gaps(assistant, reader):
    store_exchanges(assistant, 120, datetime(2026, 3, 1, 8, 0, tzinfo=UTC))

    seen: list[str] = []
    url = "/admin/log"
    for _ in range(5):
        page = reader.get(url).text
        seen += [line.split("«")[1] for line in page.split("»") if "«spørsmål" in line]
        if "Eldre meldinger" not in page:
            break
        url = page.split('href="/admin/log?')[-1].split('"')[0].replace("&amp;", "&")
        url = "/admin/log?" + url

    assert seen == [f"spørsmål {n}" for n in range(119, -1, -1)]


def test_read_log_cursor_is_keyset_on_the_message_id(assistant):
    store_exchanges(assistant, 5, datetime(2026, 3, 1, 8, 0, tzinfo=UTC))

    with assistant.sessions() as session:
        first = read_log(session, LogFilter(), page=2)
        second = read_log(session, LogFilter(), before=first.next_before, page=2)
        last = read_log(session, LogFilter(), before=second.next_before, page=2)

    texts = [row.text for page in (first, second, last) for row in page.rows]
    assert texts == [f"spørsmål {n}" for n in (4, 3, 2, 1, 0)]
    assert last.next_before is None


@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-13-45"},
        {"end": "i går"},
        {"intent": "<script>alert(1)</script>"},
        {"outcome": "'; DROP TABLE message;--"},
        {"language": "x" * 5000},
        {"before": "-1"},
        {"before": "9" * 40},
        {"feedback": "😀"},
    ],
    ids=["bad-month", "words", "xss", "sql", "huge", "negative", "overflow", "emoji"],
)
def test_hostile_or_malformed_filters_never_break_the_log(api, reader, query):
    chat(api, "ferie")

    page = reader.get("/admin/log", params=query)

    assert page.status_code in (200, 422)
    assert "<script>alert(1)</script>" not in page.text
    if page.status_code == 422:
        assert "ÅÅÅÅ-MM-DD" in page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "0001-01-01"}, "mellom år 1900 og 9998"),
        ({"end": "9999-12-31"}, "mellom år 1900 og 9998"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "Til-datoen er før fra-datoen"),
    ],
    ids=["first-year", "last-year", "reversed"],
)
def test_log_dates_out_of_range_or_reversed_are_a_norwegian_error(
    api, reader, query, message
):
    chat(api, "ferie")

    page = reader.get("/admin/log", params=query)

    assert page.status_code == 422
    assert message in page.text.split('role="alert"')[1].split("</p>")[0]


def test_transcript_shows_the_whole_conversation_but_no_identity(
    assistant, api, reader
):
    conversation = chat(api, "ferie", "kontingent")
    reply = conversation["replies"][0]
    api.post(
        f"{API}/conversations/{conversation['id']}/messages/{reply['seq']}/feedback",
        json={"rating": "down", "comment": "mangler <b>lenke</b>"},
        headers=conversation["headers"],
    )
    with assistant.sessions() as session:
        visitor = session.get(Conversation, conversation["id"]).visitor_hash

    page = reader.get(f"/admin/log/{conversation['id']}")

    assert page.status_code == 200
    assert "25 virkedager" in page.text
    assert "Kontingenten er 1 %" in page.text
    assert "mangler &lt;b&gt;lenke&lt;/b&gt;" in page.text
    assert "tommel ned" in page.text
    assert conversation["token"] not in page.text
    if visitor:
        assert visitor not in page.text
    assert "v-123" not in page.text


def test_transcript_names_the_masked_kinds_in_norwegian(api, reader):
    conversation = chat(
        api, "skriv til ola@example.org eller 91234567, konto 1234.56.78903"
    )

    page = reader.get(f"/admin/log/{conversation['id']}")

    assert "ola@example.org" not in page.text
    assert "Maskert: e-post" in page.text
    assert "email" not in page.text


@pytest.mark.parametrize(
    "conversation_id", ["0" * 32, "not-an-id", "x" * 3000, "%3Cscript%3E"]
)
def test_unknown_transcript_is_a_norwegian_404(reader, conversation_id):
    page = reader.get(f"/admin/log/{conversation_id}")

    assert page.status_code == 404
    assert "Samtalen finnes ikke" in page.text


def test_log_is_closed_to_advisors_and_analysts(assistant):
    for role in (Role.ADVISOR, Role.ANALYST):
        client = logged_in_client(assistant, role)
        assert client.get("/admin/log").status_code == 403


def test_feedback_row_is_unique_and_shown_once(assistant, api, reader):
    conversation = chat(api, "ferie")
    seq = conversation["replies"][0]["seq"]
    url = f"{API}/conversations/{conversation['id']}/messages/{seq}/feedback"
    api.post(url, json={"rating": "up"}, headers=conversation["headers"])
    api.post(url, json={"rating": "down"}, headers=conversation["headers"])

    with assistant.sessions() as session:
        ratings = [f.rating for f in session.query(Feedback).all()]

    assert ratings == ["down"]
    assert (
        reader.get("/admin/log", params={"feedback": "up"}).text.count("«ferie»") == 0
    )
