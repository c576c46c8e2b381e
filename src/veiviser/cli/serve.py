"""``veiviser serve``: the chat API and page over HTTP."""

from __future__ import annotations

import dataclasses
import logging

import click

from veiviser.settings import Settings


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
        click.echo(
            f"Veiviser is ready at http://{_shown_host(settings.host)}:"
            f"{settings.port}/ (encoder: {settings.encoder})"
        )
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
    finally:
        assistant.close()


def _show_lifecycle_logs() -> None:
    # Operators should see which encoder and model are in use without -v.
    logger = logging.getLogger("veiviser")
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)


def _shown_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
