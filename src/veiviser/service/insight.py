"""The insight service: rollups kept fresh, dashboard figures, trends, alerts.

The web pages, the JSON API and the CLI call this; it reads the settings and
wires the ``veiviser.insight`` modules to the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from veiviser.content import KnowledgeBase
from veiviser.errors import InvalidInput
from veiviser.insight import metrics, rollups, trends
from veiviser.insight.alerts import (
    AlertChannels,
    SmtpServer,
    flag_sentence,
    send_alerts,
)
from veiviser.insight.clock import days_between, oslo_day
from veiviser.insight.simulation import (
    BUTTON_SHARE,
    FEEDBACK_SHARE,
    SimulationPlan,
    SimulationReport,
    TrafficModel,
    spike_window,
)
from veiviser.insight.visitors import rotate_secret
from veiviser.service.chat import ChatService
from veiviser.service.retention import RetentionJob
from veiviser.settings import Settings
from veiviser.store.models import KbIntent, utc_now

log = logging.getLogger(__name__)

RANGES = {"7": 7, "30": 30, "90": 90, "365": 365}
DEFAULT_RANGE = "30"


@dataclass(frozen=True)
class Period:
    """The Oslo days a dashboard shows, and how its series are bucketed."""

    first: date
    last: date
    granularity: str

    @classmethod
    def ending(
        cls, today: date, range_key: str | None, granularity: str | None
    ) -> Period:
        """The period of ``range_key`` days ending today.

        Raises:
            InvalidInput: an unknown range or granularity.
        """
        range_key = range_key or DEFAULT_RANGE
        granularity = granularity or (
            "day" if RANGES.get(range_key, 0) <= 90 else "week"
        )
        if range_key not in RANGES:
            raise InvalidInput(
                f"Ukjent periode {range_key[:20]!r}; velg {', '.join(RANGES)} dager.",
                details={"range": "unknown"},
            )
        if granularity not in metrics.GRANULARITIES:
            raise InvalidInput(
                f"Ukjent inndeling {granularity[:20]!r}; velg dag, uke eller måned.",
                details={"granularity": "unknown"},
            )
        first = today - timedelta(days=RANGES[range_key] - 1)
        return cls(first, today, granularity)


@dataclass(frozen=True)
class TrendView:
    """One intent's trend, with its title and Norwegian sentence."""

    trend: trends.IntentTrend
    title: str
    sentence: str
    series: tuple[tuple[date, int], ...]


class InsightService:
    """Insight for one process, built from its database sessions and settings."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.rule = trends.TrendRule()

    def refresh(self, now: datetime | None = None) -> list[date]:
        """Bring the rollups of every day not yet final up to date."""
        return rollups.refresh(
            self.sessions, now or utc_now(), self.settings.retention_days
        )

    def needs_blocking_refresh(self, now: datetime | None = None) -> bool:
        """Whether some due day has no rollup yet (its figures would be missing).

        Days that only are a little stale can be refreshed in the background.
        """
        with self.sessions() as session:
            due = rollups.days_due(
                session, now or utc_now(), self.settings.retention_days
            )
            return bool(rollups.never_computed(session, due))

    def recompute(self, days: list[date], now: datetime | None = None) -> None:
        """Recompute the given days even if final (after simulated traffic)."""
        for day in days:
            with self.sessions.begin() as session:
                rollups.recompute_day(session, day, now or utc_now(), force=True)

    def read(self, reader, *args):  # type: ignore[no-untyped-def]
        """Run one ``metrics`` reader in a fresh session."""
        with self.sessions() as session:
            return reader(session, *args)

    def trends(self, now: datetime | None = None) -> list[TrendView]:
        """Every active intent's last seven complete days against its baseline."""
        window_end = oslo_day(now or utc_now()) - timedelta(days=1)
        first = window_end - timedelta(days=self.rule.span_days - 1)
        with self.sessions() as session:
            series, totals = metrics.intent_series(session, first, window_end)
            titles = self._titles(session)
        results = trends.detect(series, window_end, self.rule, totals)
        days = [first + timedelta(days=n) for n in range(self.rule.span_days)]
        return [
            TrendView(
                result,
                titles.get(result.intent, result.intent),
                flag_sentence(result, titles.get(result.intent, result.intent)),
                tuple((day, series[result.intent].get(day, 0)) for day in days),
            )
            for result in results
        ]

    def send_alerts(self, now: datetime | None = None) -> list[str]:
        """Refresh, test, and send the flags not sent before to the channels.

        Raises:
            AlertFailed: a channel refused; it is tried again next time.
        """
        channels = self.channels()
        if not channels.enabled:
            return []
        now = now or utc_now()
        self.refresh(now)
        views = [view for view in self.trends(now) if view.trend.flagged]
        window_end = oslo_day(now) - timedelta(days=1)
        return send_alerts(
            self.sessions,
            channels,
            [view.trend for view in views],
            {view.trend.intent: view.title for view in views},
            window_end,
        )

    def channels(self) -> AlertChannels:
        """The alert channels the settings configure."""
        settings = self.settings
        smtp = SmtpServer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
        )
        return AlertChannels(
            emails=settings.insight_alert_emails,
            smtp=smtp,
            webhook=settings.insight_alert_webhook,
        )

    def rotate_secret(self) -> None:
        """Start a new visitor-hash secret; earlier visitors count as new."""
        with self.sessions.begin() as session:
            rotate_secret(session)
        log.info("visitor-hash secret rotated")

    @staticmethod
    def _titles(session: Session) -> dict[str, str]:
        return dict(session.execute(select(KbIntent.id, KbIntent.title)).all())


def alert_job(
    sessions: sessionmaker[Session],
    settings: Settings,
    first_after: timedelta | None = None,
) -> RetentionJob | None:
    """The daily trend-alert job ``serve`` runs; None when no channel is set.

    Several processes may run it: each flag is claimed before it is sent,
    so it goes out once (see ``insight.alerts``).
    """
    service = InsightService(sessions, settings)
    if not service.channels().enabled:
        return None
    return RetentionJob(
        sessions,
        settings.retention_days,
        first_after=first_after,
        run=service.send_alerts,
        label="trend-alerts",
    )


def run_simulation(
    chat: ChatService,
    insight: InsightService,
    kb: KnowledgeBase,
    plan: SimulationPlan,
    now: datetime | None = None,
) -> SimulationReport:
    """Send synthetic traffic through the chat service, then roll it up.

    Every turn goes through ``ChatService`` (cleaning, masking, the model,
    the dialogue rules, storage) with its time set explicitly, so the
    conversations look as if they happened over the past ``plan.days`` days.

    Raises:
        ValueError: the knowledge base has no intent to ask about, or the
            spike names an intent it does not have.
    """
    now = now or utc_now()
    model = TrafficModel(kb, plan)
    report = SimulationReport(spike_intent=model.spike)
    window = spike_window(now)
    last = oslo_day(now)
    for day in days_between(last - timedelta(days=max(plan.days, 1) - 1), last):
        openings = [
            (model.moment(day), None)
            for _ in range(model.conversations_on(day, window))
        ]
        openings += [
            (model.moment(day), model.spike)
            for _ in range(model.spike_extra(day, window))
        ]
        for start, topic in sorted(openings, key=lambda pair: pair[0]):
            if start <= now:
                _simulate_conversation(chat, model, start, topic, now, report)
        report.days.append(day)
    insight.recompute(report.days, now)
    log.info(
        "simulated %d conversations, %d messages over %d days",
        report.conversations,
        report.messages,
        len(report.days),
    )
    return report


def _simulate_conversation(
    chat: ChatService,
    model: TrafficModel,
    start: datetime,
    topic: str | None,
    now: datetime,
    report: SimulationReport,
) -> None:
    rng = model.random
    opened = chat.start(visitor_id=model.visitor(), now=start)
    report.conversations += 1
    moment, buttons = start, [b.payload for b in opened.greeting.buttons]
    turns = 1 + (rng.random() < 0.35) + (rng.random() < 0.1)
    for turn in range(turns):
        moment += timedelta(seconds=rng.randrange(15, 120))
        if moment > now:
            return
        if buttons and turn and rng.random() < BUTTON_SHARE:
            text = rng.choice(buttons)
        else:
            text = model.question(topic if turn == 0 else None)
        exchange = chat.send(opened.id, opened.token, text, now=moment)
        reply = exchange.reply
        report.messages += 1
        report.outcomes[reply.outcome or ""] += 1
        buttons = [b.payload for b in reply.buttons]
        if rng.random() < FEEDBACK_SHARE:
            liked = 0.85 if reply.outcome in ("answer", "multi") else 0.3
            rating = "up" if rng.random() < liked else "down"
            chat.feedback(
                opened.id, opened.token, reply.seq, rating, None,
                now=moment + timedelta(seconds=5),
            )  # fmt: skip
            report.feedback += 1
