"""``veiviser import`` and ``veiviser export``: the knowledge base as YAML."""

from __future__ import annotations

import click

from veiviser.settings import Settings


@click.command("import")
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--merge",
    is_flag=True,
    help="Add to the stored knowledge base instead of replacing it.",
)
@click.option("--no-train", is_flag=True, help="Do not train a model afterwards.")
@click.pass_obj
def import_command(settings: Settings, path: str, merge: bool, no_train: bool) -> None:
    """Import a knowledge base from a YAML file or folder.

    It replaces the whole stored one unless --merge is given (then its buttons
    may point at stored intents); then a model is trained, which running
    servers pick up by themselves. A file that is empty, or a result without
    active intents, is refused and nothing changes.
    """
    from veiviser.content import load_knowledge_base
    from veiviser.service import Assistant
    from veiviser.service.knowledge import import_knowledge_base, stored_knowledge_base
    from veiviser.service.training import train_and_store

    assistant = Assistant.open(settings, with_encoder=not no_train)
    try:
        stored = stored_knowledge_base(assistant.sessions) if merge else None
        kb = load_knowledge_base(path, merge_into=stored)
        revision = import_knowledge_base(
            assistant.sessions, kb, merge=merge, source=path
        )
        how = "merged into" if merge else "replaced"
        click.echo(f"Knowledge base {how} the stored one (revision {revision}).")
        if not no_train:
            model_id = train_and_store(
                assistant.sessions, assistant.encoder, settings.seed
            )
            click.echo(f"Model {model_id} trained and stored.")
    finally:
        assistant.close()


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.pass_obj
def export_command(settings: Settings, path: str) -> None:
    """Write the stored knowledge base to one YAML file ('-' for stdout).

    Importing the file gives back the same knowledge base.
    """
    from veiviser.content.yaml_io import dump_knowledge_base
    from veiviser.service import Assistant
    from veiviser.service.knowledge import export_knowledge_base

    assistant = Assistant.open(settings, with_encoder=False)
    try:
        text = dump_knowledge_base(export_knowledge_base(assistant.sessions))
    finally:
        assistant.close()
    if path == "-":
        click.echo(text, nl=False)
        return
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
    except OSError as error:
        raise click.ClickException(f"Cannot write {path}: {error.strerror}") from error
    click.echo(f"Knowledge base written to {path}.", err=True)
