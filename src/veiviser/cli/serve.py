"""``veiviser serve``: the chat API and page over HTTP."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, Any

import click

from veiviser.settings import Settings

# How long a starting worker may take to answer uvicorn's health check.
WORKER_HEALTHCHECK_SECONDS = 120
# The app's own logging replaces uvicorn's. Proxy headers are off because the
# app decides which proxies to believe (VEIVISER_TRUSTED_PROXIES): uvicorn's
# own handling trusts 127.0.0.1 by default and would rewrite the client's
# address from X-Forwarded-For before the rate limit sees the request.
UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "proxy_headers": False,
}

if TYPE_CHECKING:
    from fastapi import FastAPI

    from veiviser.service import Assistant


@click.command("serve")
@click.option("--host", help="Address to listen on [setting VEIVISER_HOST].")
@click.option(
    "--port", type=click.IntRange(0, 65535), help="Port [setting VEIVISER_PORT]."
)
@click.option(
    "--kb",
    help="Knowledge base for an empty database: a YAML file or folder, or "
    "'demo' [setting VEIVISER_KB].",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Server processes on this port [setting VEIVISER_WORKERS].",
)
@click.pass_obj
def serve_command(
    settings: Settings,
    host: str | None,
    port: int | None,
    kb: str | None,
    workers: int | None,
) -> None:
    """Serve the assistant: API under /api/v1, chat page at /, docs at /docs.

    The first start creates the database, imports the knowledge base and
    trains a model; later starts reuse them.
    """
    import uvicorn

    from veiviser.logs import configure_logging
    from veiviser.service import Assistant
    from veiviser.service.insight import alert_job
    from veiviser.service.retention import RetentionJob
    from veiviser.web import create_app

    changes = {"host": host, "port": port, "kb": kb, "workers": workers}
    settings = dataclasses.replace(
        settings, **{k: v for k, v in changes.items() if v is not None}
    )
    # Operators should see which encoder and model are in use without -v.
    configure_logging(json_lines=settings.log_json, level=_veiviser_level())

    assistant = Assistant.open(settings)
    retention = RetentionJob(assistant.sessions, settings.retention_days)
    alerts = alert_job(assistant.sessions, settings)  # None without a channel
    try:
        assistant.prepare()
        base = f"http://{_shown_host(settings.host)}:{settings.port}"
        click.echo(f"Veiviser is ready at {base}/ (encoder: {settings.encoder})")
        _show_first_admin_link(assistant, base)
        retention.start()
        if alerts is not None:
            alerts.start()
        if settings.workers > 1:
            _serve_workers(settings)
        else:
            uvicorn.run(
                create_app(settings, assistant),
                host=settings.host,
                port=settings.port,
                **UVICORN_OPTIONS,
            )
    finally:
        retention.stop()
        if alerts is not None:
            alerts.stop()
        assistant.close()


def _serve_workers(settings: Settings) -> None:
    """Run ``settings.workers`` processes on one port, each with its own model.

    The model is already trained and stored; each worker opens the database
    and loads it. The workers read their settings from the environment, so
    the command's options are handed over there, and their metrics are
    written to a shared folder that ``/metrics`` adds up.
    """
    import uvicorn

    os.environ.update(
        {"VEIVISER_KB": settings.kb, "VEIVISER_HOST": settings.host,
         "VEIVISER_PORT": str(settings.port)}
    )  # fmt: skip
    metrics_dir = tempfile.mkdtemp(prefix="veiviser-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "veiviser.cli.serve:worker_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            # A worker busy loading the encoder and model must not be taken
            # for dead (uvicorn's default allows 5 s).
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **UVICORN_OPTIONS,
        )
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def worker_app() -> FastAPI:
    """The app of one worker process started by ``serve --workers``."""
    from veiviser.logs import configure_logging
    from veiviser.web import create_app

    settings = Settings.from_env()
    configure_logging(json_lines=settings.log_json, level=logging.INFO)
    return create_app(settings)


def _show_first_admin_link(assistant: Assistant, base: str) -> None:
    from veiviser.service.staff import create_setup_token

    token = create_setup_token(assistant.sessions)
    if token is not None:
        click.echo(
            "No administrator exists yet. Create the first one, once, at "
            f"{base}/admin/setup?token={token} (valid for 24 hours)."
        )


def _veiviser_level() -> int:
    # -v and -vv (set by the veiviser command) may lower it to DEBUG.
    return min(logging.getLogger("veiviser").getEffectiveLevel(), logging.INFO)


def _shown_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
