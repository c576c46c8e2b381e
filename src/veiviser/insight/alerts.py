"""Trend alerts: a Norwegian sentence per flag, sent by e-mail or webhook.

Both channels are off unless configured. Each flag is sent once across all
processes: the sender first claims it with a row in ``insight_alert`` (its
key is the intent and the window's last day) and releases the claim if the
sending fails, so a later run tries again.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from functools import cache
from pathlib import Path

import httpx
import yaml
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from veiviser.errors import VeiviserError
from veiviser.insight.trends import IntentTrend
from veiviser.store.models_insight import InsightAlert

log = logging.getLogger(__name__)

TEXTS_FILE = Path(__file__).parent / "texts_nb.yaml"
TIMEOUT_SECONDS = 10.0


class AlertFailed(VeiviserError):
    """An alert could not be delivered; it will be tried again."""

    status = 502
    code = "alert_failed"


@dataclass(frozen=True)
class SmtpServer:
    """Where e-mail goes: host, port and optional STARTTLS and login."""

    host: str
    port: int = 25
    starttls: bool = False
    username: str = ""
    password: str = ""
    sender: str = ""


@dataclass(frozen=True)
class AlertChannels:
    """The configured channels; with neither, nothing is sent."""

    emails: tuple[str, ...] = ()
    smtp: SmtpServer | None = None
    webhook: str = ""

    @property
    def enabled(self) -> bool:
        return bool((self.emails and self.smtp and self.smtp.host) or self.webhook)


@cache
def texts() -> Mapping[str, str]:
    """The Bokmål texts of flags and alerts."""
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return {key: str(value) for key, value in data.items()}


def norwegian_number(value: float, decimals: int = 1) -> str:
    """``3.14`` as ``3,1``: Norwegian decimal comma."""
    return f"{value:.{decimals}f}".replace(".", ",")


def flag_sentence(trend: IntentTrend, topic: str) -> str:
    """The one-line Norwegian description of a flag."""
    if trend.expected < 0.5:
        return texts()["trend_flag_new"].format(topic=topic, count=trend.observed)
    return texts()["trend_flag"].format(
        topic=topic, ratio=norwegian_number(trend.ratio)
    )


def send_alerts(
    sessions: sessionmaker[Session],
    channels: AlertChannels,
    flags: Sequence[IntentTrend],
    titles: Mapping[str, str],
    window_end: date,
) -> list[str]:
    """Send the flags not sent before; returns the intents sent.

    Raises:
        AlertFailed: a channel refused; the claims are released.
    """
    if not channels.enabled or not flags:
        return []
    claimed = [f for f in flags if _claim(sessions, f, window_end)]
    if not claimed:
        return []
    try:
        _deliver(channels, claimed, titles, window_end)
    except (OSError, smtplib.SMTPException, httpx.HTTPError) as error:
        _release(sessions, claimed, window_end)
        raise AlertFailed(f"The trend alert could not be sent: {error}") from error
    log.info("trend alert sent for %s", ", ".join(f.intent for f in claimed))
    return [f.intent for f in claimed]


def email_message(
    channels: AlertChannels,
    flags: Sequence[IntentTrend],
    titles: Mapping[str, str],
    window_end: date,
) -> EmailMessage:
    """The alert as an e-mail."""
    words = texts()
    topics = ", ".join(titles.get(f.intent, f.intent) for f in flags)
    lines = [words["alert_intro"].format(window_end=window_end.strftime("%d.%m.%Y"))]
    for flag in flags:
        lines.append("")
        lines.append("- " + flag_sentence(flag, titles.get(flag.intent, flag.intent)))
        lines.append(
            "  "
            + words["alert_detail"].format(
                count=flag.observed, expected=norwegian_number(flag.expected)
            )
        )
    lines += ["", words["alert_outro"]]
    message = EmailMessage()
    message["Subject"] = words["alert_subject"].format(topics=topics)[:200]
    assert channels.smtp is not None
    message["From"] = channels.smtp.sender or f"veiviser@{channels.smtp.host}"
    message["To"] = ", ".join(channels.emails)
    message.set_content("\n".join(lines))
    return message


def webhook_payload(
    flags: Sequence[IntentTrend], titles: Mapping[str, str], window_end: date
) -> dict:
    """The alert as JSON for a webhook."""
    return {
        "window_end": window_end.isoformat(),
        "flags": [
            {
                "intent": flag.intent,
                "title": titles.get(flag.intent, flag.intent),
                "observed": flag.observed,
                "expected": round(flag.expected, 2),
                "ratio": None if flag.expected == 0 else round(flag.ratio, 2),
                "p_value": flag.adjusted_p,
                "message": flag_sentence(flag, titles.get(flag.intent, flag.intent)),
            }
            for flag in flags
        ],
    }


def _deliver(
    channels: AlertChannels,
    flags: Sequence[IntentTrend],
    titles: Mapping[str, str],
    window_end: date,
) -> None:
    if channels.emails and channels.smtp and channels.smtp.host:
        _send_email(channels.smtp, email_message(channels, flags, titles, window_end))
    if channels.webhook:
        response = httpx.post(
            channels.webhook,
            json=webhook_payload(flags, titles, window_end),
            timeout=TIMEOUT_SECONDS,
        )
        response.raise_for_status()


def _send_email(smtp: SmtpServer, message: EmailMessage) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.username:
            server.login(smtp.username, smtp.password)
        server.send_message(message)


def _claim(
    sessions: sessionmaker[Session], flag: IntentTrend, window_end: date
) -> bool:
    with sessions.begin() as session:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(InsightAlert)
            .values(
                intent=flag.intent, window_end=window_end, ratio=_finite(flag.ratio)
            )
            .on_conflict_do_nothing(index_elements=["intent", "window_end"])
            .returning(InsightAlert.intent)
        )
        # A row comes back only when this process inserted the claim.
        return session.execute(statement).first() is not None


def _release(
    sessions: sessionmaker[Session], flags: Sequence[IntentTrend], window_end: date
) -> None:
    with sessions.begin() as session:
        session.execute(
            delete(InsightAlert).where(
                InsightAlert.window_end == window_end,
                InsightAlert.intent.in_([f.intent for f in flags]),
            )
        )


def _finite(value: float) -> float:
    return value if value != float("inf") else 1e9
