"""The ``veiviser`` command."""

from __future__ import annotations

import logging
import sys

import click

from veiviser.errors import VeiviserError
from veiviser.nlu.encoder import Encoder, load_encoder
from veiviser.settings import Settings, settings_markdown


def encoder_from(settings: Settings) -> Encoder | None:
    """The encoder the settings ask for."""
    return load_encoder(settings.encoder, settings.cache_path)


@click.group()
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(context: click.Context, verbose: int) -> None:
    """Veiviser: a member-service assistant for member organisations."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    context.obj = Settings.from_env()


@cli.command("settings")
@click.option("--markdown", is_flag=True, help="Print the settings table for the docs.")
@click.pass_obj
def settings_command(settings: Settings, markdown: bool) -> None:
    """Show the settings in force (or the documentation table)."""
    if markdown:
        click.echo(settings_markdown(), nl=False)
        return
    for name, value in vars(settings).items():
        # Secrets are set or not; their values stay out of terminals and logs.
        secret = name.endswith(("_secret", "_token", "_password"))
        click.echo(f"{name} = {'(set)' if secret and value else value}")


def _register() -> None:
    from veiviser.cli.chat import chat_command
    from veiviser.cli.evaluate import eval_command
    from veiviser.cli.insight import insight_command
    from veiviser.cli.kb_io import export_command, import_command
    from veiviser.cli.members import members_command
    from veiviser.cli.purge import purge_command
    from veiviser.cli.serve import serve_command
    from veiviser.cli.simulate import simulate_command
    from veiviser.cli.train import train_command
    from veiviser.cli.users import users_command

    cli.add_command(eval_command)
    cli.add_command(members_command)
    cli.add_command(purge_command)
    cli.add_command(simulate_command)
    cli.add_command(insight_command)
    cli.add_command(users_command)
    for command in (
        serve_command,
        chat_command,
        train_command,
        import_command,
        export_command,
    ):
        cli.add_command(command)


_register()


def main() -> None:
    """Run the CLI; veiviser's own errors become a message and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Avbrutt.", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except VeiviserError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(2)
