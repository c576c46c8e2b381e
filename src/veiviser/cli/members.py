"""``veiviser members``: the built-in member directory.

Only counts are ever printed: the command line shows no member's data.
"""

from __future__ import annotations

import click
from sqlalchemy import func, select

from veiviser.settings import Settings


@click.group("members")
def members_command() -> None:
    """The built-in member directory behind personal answers (Min side)."""


@members_command.command("import")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--check", is_flag=True, help="Only check the files; change nothing.")
@click.pass_obj
def import_members_command(settings: Settings, folder: str, check: bool) -> None:
    """Replace the member directory with the CSV files in FOLDER.

    FOLDER holds employers.csv, representatives.csv, members.csv,
    courses.csv, enrolments.csv and invoices.csv. Every row is checked first;
    any problem is listed with its file and line, and nothing is imported.
    """
    from veiviser.members.csv_import import import_members, read_member_folder
    from veiviser.store import create_engine_for, session_factory, upgrade_database

    if check:
        parsed = read_member_folder(folder)
        counts = ", ".join(
            f"{name.removesuffix('.csv')}: {len(rows.rows)}"
            for name, rows in parsed.items()
        )
        click.echo(f"The member files are valid ({counts}). Nothing was changed.")
        return
    engine = create_engine_for(settings.database_url)
    try:
        upgrade_database(engine)
        summary = import_members(session_factory(engine), folder)
    finally:
        engine.dispose()
    click.echo(f"Member directory replaced ({summary}).")


@members_command.command("status")
@click.pass_obj
def status_command(settings: Settings) -> None:
    """How member login and the directory are set up, and how many members."""
    from veiviser.store import create_engine_for, session_factory, upgrade_database
    from veiviser.store.models_members import Member

    login = "on" if _login_configured(settings) else "off"
    if not settings.member_token_secret and settings.demo_mode:
        login = "demo portal only (demo mode)"
    click.echo(f"member login: {login}")
    click.echo(f"member directory: {settings.member_directory}")
    if settings.member_directory != "tables":
        return
    engine = create_engine_for(settings.database_url)
    try:
        upgrade_database(engine)
        with session_factory(engine)() as session:
            count = session.scalar(select(func.count()).select_from(Member))
    finally:
        engine.dispose()
    click.echo(f"members in the built-in tables: {count}")


def _login_configured(settings: Settings) -> bool:
    return bool(
        settings.member_token_secret
        or settings.member_token_public_key
        or settings.member_token_jwks
    )
