"""Handover counts and waiting times on the dashboard (issue 11, item 7).

Handover rows are written through the storage models with chosen times and
every figure is compared with one worked out by hand; then a real handover
goes through the service (frozen clock) and shows on the dashboard, whose
CSV equals what the chart draws. SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from test_admin_support import logged_in_client
from veiviser.insight.clock import oslo_day
from veiviser.insight.handovers import handover_series, handover_totals, nearest_rank
from veiviser.service import Assistant
from veiviser.service.insight import InsightService, Period
from veiviser.service.staff import Role
from veiviser.store import create_engine_for, session_factory, upgrade_database
from veiviser.store.models import Conversation
from veiviser.store.models_handover import Handover, HandoverTicket
from veiviser.web import create_app
from veiviser.web.admin.insight import build_chart

pytest_plugins = ["test_store_support", "test_admin_support"]

API = "/api/v1"
DAY = date(2026, 3, 10)  # a Tuesday, CET (UTC+1)
NINE = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Oslo


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine_for(database_url)
    upgrade_database(engine)
    yield session_factory(engine)
    engine.dispose()


def add_handover(
    session: Session,
    name: str,
    requested: datetime,
    wait_minutes: float | None,
    status: str = "ended",
) -> None:
    """A conversation with one handover, taken after ``wait_minutes`` (or not)."""
    conversation_id = name.ljust(32, "0")
    session.add(
        Conversation(
            id=conversation_id,
            token_hash="0" * 64,
            state={},
            created_at=requested,
            last_activity_at=requested,
        )
    )
    session.flush()
    claimed = (
        None if wait_minutes is None else requested + timedelta(minutes=wait_minutes)
    )
    session.add(
        Handover(
            conversation_id=conversation_id,
            status=status,
            reason="asked",
            requested_at=requested,
            first_claimed_at=claimed,
            claimed_at=claimed,
        )
    )


def add_ticket(session: Session, created: datetime) -> None:
    session.add(
        HandoverTicket(
            contact="kontakt", message="melding", consent_text="ja", created_at=created
        )
    )


def hand_made_handovers(session: Session) -> None:
    # DAY: waits 1, 3, 10 and 2 minutes; one member left before anyone came;
    # one still waiting; two messages left. 22:30 UTC is already the next
    # Oslo day, so that handover and ticket belong to DAY + 1.
    for n, wait in enumerate([1, 3, 10, 2]):
        add_handover(session, f"a{n}", NINE + timedelta(hours=n), wait)
    add_handover(session, "left", NINE, None, status="ended")
    add_handover(session, "queued", NINE, None, status="queued")
    add_ticket(session, NINE)
    add_ticket(session, NINE + timedelta(hours=5))
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
    add_handover(session, "late", late, 4)
    add_ticket(session, late)


def test_handover_counts_and_waits_per_oslo_day_are_hand_computed(sessions):
    with sessions.begin() as session:
        hand_made_handovers(session)

    with sessions() as session:
        days = handover_series(session, DAY, DAY + timedelta(days=2), "day")

    first, second, third = days
    assert (first.start, first.requested, first.taken, first.left) == (DAY, 6, 4, 1)
    assert (first.waiting, first.tickets) == (1, 2)
    assert first.median_wait == 2.5  # (2 + 3) / 2 of 1, 2, 3, 10
    assert first.p90_wait == 10.0  # nearest rank: ceil(0.9 * 4) = 4th
    assert (second.requested, second.taken, second.tickets) == (1, 1, 1)
    assert (second.median_wait, second.p90_wait) == (4.0, 4.0)
    assert (third.requested, third.tickets, third.median_wait) == (0, 0, None)


def test_period_totals_take_the_median_over_every_wait(sessions):
    with sessions.begin() as session:
        hand_made_handovers(session)

    with sessions() as session:
        total = handover_totals(session, DAY, DAY + timedelta(days=1))
        week = handover_series(session, DAY, DAY + timedelta(days=1), "week")

    assert (total.requested, total.taken, total.left, total.tickets) == (7, 5, 1, 3)
    assert total.median_wait == 3.0  # 1, 2, 3, 4, 10
    assert total.p90_wait == 10.0
    assert len(week) == 1 and week[0].start == date(2026, 3, 9)  # its Monday
    assert week[0].requested == 7


def test_nearest_rank_percentile():
    assert nearest_rank([], 0.9) is None
    assert nearest_rank([5.0], 0.9) == 5.0
    assert nearest_rank([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert nearest_rank([float(n) for n in range(1, 12)], 0.9) == 10.0


# --- Through the service and the dashboard -----------------------------------


@pytest.fixture
def client(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_app(assistant.settings, assistant)) as test_client:
        yield test_client


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Advisor:
    id = 1
    username = "kari"


def open_around_the_clock(assistant: Assistant, today: date) -> None:
    from veiviser.handover.hours import Interval

    all_day = [Interval.parse("00:00", "23:59")]
    assistant.handover.save_week({day: all_day for day in range(7)})
    # A public holiday today would close the office; an exception opens it.
    assistant.handover.save_exception(today, all_day[0], "")


def test_a_real_handover_shows_its_wait_on_the_dashboard_and_in_the_csv(
    assistant, client
):
    requested = datetime.now(UTC) - timedelta(minutes=30)
    clock = Clock(requested)
    assistant.handover.clock = clock
    open_around_the_clock(assistant, oslo_day(requested))
    opened = client.post(f"{API}/conversations").json()
    assistant.handover.set_available(Advisor(), True)
    status = assistant.handover.request(opened["id"], opened["token"])
    assert status.state == "queued"
    [entry] = assistant.handover.queue_entries()

    clock.now = requested + timedelta(seconds=90)
    assistant.handover.claim(Advisor(), entry.id)

    staff = logged_in_client(assistant, Role.ANALYST)
    page = staff.get("/admin/insight?range=7&by=day").text
    totals = re.search(r'id="handover-totals">(.*?)</dl>', page, re.S).group(1)
    assert "1,5 min" in totals
    download = staff.get("/admin/insight/waits.csv?range=7&by=day")
    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert rows[0] == [
        "Periode",
        "Median ventetid (min)",
        "90-persentil ventetid (min)",
    ]
    today = oslo_day(requested).strftime("%d.%m.%Y")
    assert [today, "1.5", "1.5"] in rows
    # A day nobody was taken has no wait: an empty cell, no bar, a dash.
    assert all(row[1] == "" for row in rows[1:] if row[0] != today)
    svg = re.search(r'<svg[^>]*aria-labelledby="chart-waits-title.*?</svg>', page, re.S)
    drawn = re.findall(r'data-label="([^"]*)" data-series="[^"]*" data-value', svg[0])
    assert drawn == [today, today]
    assert "<td>–</td>" in page


@pytest.mark.parametrize("name", ["handovers", "waits"])
def test_handover_csv_equals_the_charts_data(assistant, client, name):
    now = datetime.now(UTC)
    with assistant.sessions.begin() as session:
        for n, wait in enumerate([2, 6]):
            add_handover(session, f"h{n}", now - timedelta(minutes=30), wait)
        add_ticket(session, now - timedelta(minutes=20))
    staff = logged_in_client(assistant, Role.EDITOR)
    page = staff.get("/admin/insight?range=7").text

    download = staff.get(f"/admin/insight/{name}.csv?range=7&by=day")

    rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    svg = re.search(
        rf'<svg[^>]*aria-labelledby="chart-{name}-title.*?</svg>', page, re.S
    ).group(0)
    drawn = re.findall(
        r'data-label="([^"]*)" data-series="([^"]*)" data-value="([^"]*)"', svg
    )
    from_csv = [
        (row[0], column, row[1 + n])
        for row in body
        for n, column in enumerate(header[1:])
        if row[1 + n] != ""
    ]
    assert drawn == from_csv
    assert sum(float(value) for _, _, value in drawn) > 0


def test_handover_charts_follow_the_period_granularity(assistant):
    service = InsightService(assistant.sessions, assistant.settings)
    period = Period.ending(date(2026, 3, 31), "90", "month")

    chart = build_chart(service, period, "handovers")

    assert [row[0] for row in chart.rows] == [
        "januar 2026",
        "februar 2026",
        "mars 2026",
    ]
    assert all(row[1:] == (0, 0, 0) for row in chart.rows)
