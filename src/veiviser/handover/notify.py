"""E-mail to the advisors when a member leaves a message (off by default).

The e-mail says that a message is waiting and where to read it; it never
carries the member's contact details or words, so nothing personal travels
by e-mail.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cache
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

TEXTS_FILE = Path(__file__).parent / "texts_nb.yaml"


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send; ``host`` empty means no e-mail."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.host and self.sender and self.recipients)


@cache
def email_texts() -> dict[str, str]:
    """The Bokmål texts of the e-mail to staff."""
    data = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return {key: str(value).strip() for key, value in data.items()}


def ticket_notice(topic: str | None, link: str) -> tuple[str, str]:
    """Subject and body of the notice about a new ticket."""
    texts = email_texts()
    topic_text = topic or texts["email_no_topic"]
    subject = texts["email_subject"].replace("{topic}", topic_text)
    body = texts["email_body"].replace("{topic}", topic_text).replace("{link}", link)
    return subject, body


def send(config: SmtpConfig, subject: str, body: str) -> bool:
    """Send one plain-text e-mail; False (and a log line) if it failed."""
    if not config.enabled:
        return False
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = ", ".join(config.recipients)
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("ticket e-mail not sent: %s", type(error).__name__)
        return False
    log.info("ticket e-mail sent to %d recipient(s)", len(config.recipients))
    return True
