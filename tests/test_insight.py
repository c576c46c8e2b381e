"""Insight rollups and metrics on hand-computed data, Oslo days and DST.

Rows are written through the storage models with chosen timestamps, rolled
up, and every figure compared with a number worked out by hand. Storage
tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from veiviser.insight import metrics, rollups
from veiviser.insight.clock import day_bounds, oslo_day, oslo_hour
from veiviser.service.insight import InsightService, Period
from veiviser.settings import Settings
from veiviser.store import create_engine_for, session_factory, upgrade_database
from veiviser.store.models import Conversation, Feedback, Message
from veiviser.store.models_insight import InsightDay, InsightDayIntent

pytest_plugins = ["test_store_support"]

DAY = date(2026, 5, 12)  # a Tuesday, CEST (UTC+2)
NOON = datetime(2026, 5, 12, 10, 0, tzinfo=UTC)  # 12:00 in Oslo
LATER = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)  # the day is final by then


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine_for(database_url)
    upgrade_database(engine)
    yield session_factory(engine)
    engine.dispose()


def add_conversation(
    session: Session,
    name: str,
    turns: list[tuple[str, str | None]],
    start: datetime = NOON,
    visitor: str | None = None,
    down_on: int | None = None,
) -> None:
    """A conversation: greeting, then (outcome, intent) replies to members.

    Each member message and its reply come one minute after the one before.
    """
    conversation_id = name.ljust(32, "0")
    session.add(
        Conversation(
            id=conversation_id,
            token_hash="0" * 64,
            state={},
            created_at=start,
            last_activity_at=start,
            visitor_hash=visitor,
        )
    )
    session.flush()
    rows = [Message(role="assistant", outcome="greeting", created_at=start)]
    for n, (outcome, intent) in enumerate(turns):
        at = start + timedelta(minutes=n + 1)
        rows.append(Message(role="member", text="spørsmål", created_at=at))
        rows.append(
            Message(
                role="assistant",
                outcome=outcome,
                intent=intent,
                intents=[intent] if intent else [],
                created_at=at,
            )
        )
    for seq, row in enumerate(rows, start=1):
        row.conversation_id, row.seq = conversation_id, seq
        session.add(row)
    session.flush()
    if down_on is not None:
        reply = rows[2 * down_on + 2]
        session.add(Feedback(message_id=reply.id, rating="down", created_at=start))


def hand_made_day(session: Session) -> None:
    # A: decline answered later -> resolved. B: decline left open.
    # C: handover. D: answered but thumbs down. E: greeting only.
    add_conversation(
        session,
        "a",
        [("answer", "ferie"), ("fallback", None), ("answer", "kontingent")],
        visitor="v1",
    )
    add_conversation(session, "b", [("fallback", None)], visitor="v1")
    add_conversation(session, "c", [("handover", "snakke_med_menneske")], visitor="v2")
    add_conversation(session, "d", [("answer", "ferie")], down_on=0)
    add_conversation(session, "e", [])
    # v1 was first seen the day before: a returning visitor on DAY.
    add_conversation(
        session, "f", [("clarify", None)], start=NOON - timedelta(days=1), visitor="v1"
    )


def roll_up(sessions: sessionmaker[Session], *days: date) -> None:
    with sessions.begin() as session:
        for day in days:
            rollups.recompute_day(session, day, LATER, force=True)


def test_every_metric_matches_the_hand_computed_day(sessions):
    with sessions.begin() as session:
        hand_made_day(session)
    roll_up(sessions, DAY)

    with sessions() as session:
        result = metrics.overview(session, DAY, DAY)
    totals, rates = result.totals, result.rates
    assert totals["conversations"] == 5
    assert totals["engaged"] == 4
    assert totals["member_messages"] == 6
    assert totals["resolved"] == 1  # only A
    assert rates.answer == pytest.approx(3 / 6)  # A twice, D once
    assert rates.decline == pytest.approx(2 / 6)
    assert rates.clarify == 0
    assert rates.resolution == pytest.approx(1 / 4)
    assert rates.handover == pytest.approx(1 / 4)
    assert rates.feedback == 0  # one thumb, down
    assert (totals["new_visitors"], totals["returning_visitors"]) == (1, 1)


def test_top_intents_and_groups_count_topical_replies_with_share(sessions):
    with sessions.begin() as session:
        hand_made_day(session)
    roll_up(sessions, DAY)

    with sessions() as session:
        intents = metrics.top_intents(session, DAY, DAY)
        groups = metrics.top_groups(session, DAY, DAY)
    assert [(i.key, i.count) for i in intents] == [
        ("ferie", 2),
        ("kontingent", 1),
        ("snakke_med_menneske", 1),
    ]
    assert intents[0].share == pytest.approx(2 / 4)
    # No knowledge base is stored here, so every intent is without a group.
    assert [(g.key, g.count) for g in groups] == [("", 4)]


def test_clarify_day_counts_separately_and_series_fill_gaps(sessions):
    with sessions.begin() as session:
        hand_made_day(session)
    roll_up(sessions, DAY - timedelta(days=1), DAY)

    with sessions() as session:
        before = metrics.overview(
            session, DAY - timedelta(days=1), DAY - timedelta(days=1)
        )
        daily = metrics.series(
            session, DAY - timedelta(days=2), DAY, "day", ("conversations",)
        )
        weekly = metrics.series(
            session, DAY - timedelta(days=2), DAY, "week", ("conversations",)
        )
    assert before.rates.clarify == 1.0
    assert before.totals["new_visitors"] == 1
    assert [v["conversations"] for _, v in daily] == [0, 1, 5]
    # 10 May is a Sunday: two ISO weeks.
    assert [(start, v["conversations"]) for start, v in weekly] == [
        (date(2026, 5, 4), 0),
        (date(2026, 5, 11), 6),
    ]


def test_recompute_is_idempotent(sessions):
    with sessions.begin() as session:
        hand_made_day(session)
    roll_up(sessions, DAY)
    with sessions() as session:
        first = session.scalars(
            select(InsightDayIntent).order_by(InsightDayIntent.intent)
        )
        once = [(r.intent, r.outcome, r.count) for r in first]

    roll_up(sessions, DAY)

    with sessions() as session:
        again = [
            (r.intent, r.outcome, r.count)
            for r in session.scalars(
                select(InsightDayIntent).order_by(InsightDayIntent.intent)
            )
        ]
        assert session.get(InsightDay, DAY).conversations == 5
    assert again == once


def test_rollups_outlive_purged_conversations(sessions):
    with sessions.begin() as session:
        hand_made_day(session)
    assert rollups.refresh(sessions, LATER, retention_days=90)  # DAY becomes final

    with sessions.begin() as session:  # what a purge does
        session.execute(delete(Feedback))
        session.execute(delete(Message))
        session.execute(delete(Conversation))
    rollups.refresh(sessions, LATER + timedelta(days=1), retention_days=90)

    with sessions() as session:
        assert session.get(InsightDay, DAY).final
        assert metrics.overview(session, DAY, DAY).totals["conversations"] == 5


def test_refresh_skips_final_days_and_recomputes_open_ones(sessions):
    with sessions.begin() as session:
        hand_made_day(session)
    today_noon = datetime(2026, 5, 13, 10, 0, tzinfo=UTC)
    first = rollups.refresh(sessions, today_noon, retention_days=90)
    with sessions.begin() as session:
        add_conversation(session, "g", [("answer", "ferie")])

    soon = rollups.refresh(sessions, today_noon + timedelta(seconds=5), 90)
    later = rollups.refresh(sessions, today_noon + timedelta(minutes=5), 90)

    assert DAY in first
    assert soon == []  # fresh: computed seconds ago
    assert DAY in later  # not final yet: recomputed
    with sessions() as session:
        assert session.get(InsightDay, DAY).conversations == 6


# --- Oslo days and daylight saving -------------------------------------------


def test_oslo_midnight_splits_days_in_local_time():
    late = datetime(2026, 5, 11, 22, 30, tzinfo=UTC)  # 00:30 on the 12th in Oslo
    assert oslo_day(late) == DAY
    assert oslo_hour(late) == 0
    assert day_bounds(DAY)[0] == datetime(2026, 5, 11, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 29), 23),  # last Sunday of March: 02:00 -> 03:00
        (date(2026, 10, 25), 25),  # last Sunday of October: 03:00 -> 02:00
        (date(2026, 3, 28), 24),
    ],
    ids=["spring", "autumn", "ordinary"],
)
def test_daylight_saving_days_have_their_real_length(day, hours):
    start, end = day_bounds(day)
    assert end - start == timedelta(hours=hours)
    assert day_bounds(day + timedelta(days=1))[0] == end  # no gap, no overlap


def test_dst_days_count_every_message_once_in_the_right_hour(sessions):
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    moments = [
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 CET on the 29th
        datetime(2026, 3, 29, 0, 58, tzinfo=UTC),  # 01:58 CET
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 CEST (02 never happens)
        datetime(2026, 3, 29, 21, 58, tzinfo=UTC),  # 23:58 CEST
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # 00:00 on the 30th
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET, the hour again
        datetime(2026, 10, 25, 22, 58, tzinfo=UTC),  # 23:58 CET
    ]
    with sessions.begin() as session:
        for n, moment in enumerate(moments):
            add_conversation(session, f"m{n}", [("answer", "ferie")], start=moment)
    roll_up(sessions, spring, spring + timedelta(days=1), autumn)

    with sessions() as session:
        spring_day = session.get(InsightDay, spring)
        autumn_day = session.get(InsightDay, autumn)
        grid = metrics.heatmap(session, autumn, autumn)
        spring_grid = metrics.heatmap(session, spring, spring)
    assert spring_day.member_messages == 4
    assert autumn_day.member_messages == 3
    assert grid[6][2] == 2  # Sunday, hour 02: both real hours
    assert spring_grid[6][2] == 0 and spring_grid[6][3] == 1
    assert sum(map(sum, spring_grid)) == 4


# --- The service's period ------------------------------------------------------


def test_period_rejects_unknown_range_and_granularity_with_a_named_error():
    from veiviser.errors import InvalidInput

    assert Period.ending(DAY, "7", "day").first == DAY - timedelta(days=6)
    assert Period.ending(DAY, None, None).granularity == "day"
    for bad in ("8", "<script>", "1; DROP TABLE message", "x" * 10_000, ""):
        if bad == "":
            continue
        with pytest.raises(InvalidInput):
            Period.ending(DAY, bad, "day")
    with pytest.raises(InvalidInput):
        Period.ending(DAY, "30", "hour")


def test_service_refresh_uses_the_retention_setting(sessions, tmp_path: Path):
    with sessions.begin() as session:
        hand_made_day(session)
    service = InsightService(sessions, Settings(retention_days=2))
    # Eight days on, the hand-made day is older than the retention: left alone.
    assert service.refresh(LATER) == [] or DAY not in service.refresh(LATER)


def test_concurrent_refreshes_compute_each_day_once_and_agree(sessions):
    with sessions.begin() as session:
        hand_made_day(session)
    errors: list[BaseException] = []

    def refresh() -> None:
        try:
            rollups.refresh(sessions, LATER, retention_days=90)
        except BaseException as error:  # collected and asserted below
            errors.append(error)

    workers = [threading.Thread(target=refresh) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    with sessions() as session:
        assert metrics.overview(session, DAY, DAY).totals["conversations"] == 5
        assert session.get(InsightDay, DAY).final
