"""``veiviser train``: train a model on the stored knowledge base."""

from __future__ import annotations

import click

from veiviser.settings import Settings


@click.command("train")
@click.pass_obj
def train_command(settings: Settings) -> None:
    """Train on the knowledge base in the database and store the model.

    Running servers load it within VEIVISER_MODEL_POLL_SECONDS. An empty
    database first gets the knowledge base named by VEIVISER_KB.
    """
    from veiviser.service import Assistant
    from veiviser.service.knowledge import import_if_empty
    from veiviser.service.training import train_and_store

    assistant = Assistant.open(settings)
    try:
        if import_if_empty(assistant.sessions, settings.kb):
            click.echo(f"Imported the knowledge base from {settings.kb}.")
        model_id = train_and_store(assistant.sessions, assistant.encoder, settings.seed)
    finally:
        assistant.close()
    click.echo(f"Model {model_id} trained and stored.")
