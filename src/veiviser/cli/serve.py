"""``veiviser serve``: the chat API and page over HTTP."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import click

from veiviser.settings import Settings

if TYPE_CHECKING:
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
@click.pass_obj
def serve_command(
    settings: Settings, host: str | None, port: int | None, kb: str | None
) -> None:
    """Serve the assistant: API under /api/v1, chat page at /, docs at /docs.

    The first start creates the database, imports the knowledge base and
    trains a model; later starts reuse them.
    """
    import uvicorn

    from veiviser.service import Assistant
    from veiviser.web import create_app

    changes = {"host": host, "port": port, "kb": kb}
    settings = dataclasses.replace(
        settings, **{k: v for k, v in changes.items() if v is not None}
    )
    _show_lifecycle_logs()

    assistant = Assistant.open(settings)
    try:
        assistant.prepare()
        app = create_app(settings, assistant)
        base = f"http://{_shown_host(settings.host)}:{settings.port}"
        click.echo(f"Veiviser is ready at {base}/ (encoder: {settings.encoder})")
        _show_first_admin_link(assistant, base)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    finally:
        assistant.close()


def _show_first_admin_link(assistant: Assistant, base: str) -> None:
    from veiviser.service.staff import create_setup_token

    token = create_setup_token(assistant.sessions)
    if token is not None:
        click.echo(
            "No administrator exists yet. Create the first one, once, at "
            f"{base}/admin/setup?token={token} (valid for 24 hours)."
        )


def _show_lifecycle_logs() -> None:
    # Operators should see which encoder and model are in use without -v.
    logger = logging.getLogger("veiviser")
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)


def _shown_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
