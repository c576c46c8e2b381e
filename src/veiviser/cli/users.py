"""``veiviser users``: staff accounts for the admin pages."""

from __future__ import annotations

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from veiviser.service import staff
from veiviser.settings import Settings
from veiviser.store import create_engine_for, session_factory, upgrade_database

ROLES = [role.value for role in staff.Role]


@click.group("users")
def users_command() -> None:
    """Staff accounts for the admin pages at /admin."""


def _sessions(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    return engine, session_factory(engine)


@users_command.command("add")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default=staff.Role.EDITOR.value,
    show_default=True,
    help="What the account may do.",
)
@click.password_option(
    "--password",
    help="The password (asked for, twice, when not given; at least 10 characters).",
)
@click.pass_obj
def add_command(settings: Settings, username: str, role: str, password: str) -> None:
    """Create an account that can log in at /admin."""
    engine, sessions = _sessions(settings)
    try:
        user = staff.create_account(sessions, username, password, role)
    finally:
        engine.dispose()
    click.echo(f"Created {user.username} ({user.role.value}).")


@users_command.command("list")
@click.pass_obj
def list_command(settings: Settings) -> None:
    """List the accounts with their roles."""
    engine, sessions = _sessions(settings)
    try:
        accounts = staff.list_accounts(sessions)
    finally:
        engine.dispose()
    for account in accounts:
        state = "" if account.active else "  (deactivated)"
        click.echo(f"{account.username}\t{account.role.value}{state}")


@users_command.command("password")
@click.argument("username")
@click.password_option(
    "--password", help="The new password (asked for when not given)."
)
@click.pass_obj
def password_command(settings: Settings, username: str, password: str) -> None:
    """Set a new password for an account and end its sessions."""
    engine, sessions = _sessions(settings)
    try:
        account = next(
            (
                a
                for a in staff.list_accounts(sessions)
                if a.username == username.lower()
            ),
            None,
        )
        if account is None:
            raise click.ClickException(f"No account is called {username!r}.")
        staff.set_password(sessions, account.id, password)
    finally:
        engine.dispose()
    click.echo(f"New password set for {account.username}; their sessions ended.")
