"""``veiviser insight``: keep rollups current, send trend alerts, rotate."""

from __future__ import annotations

import click

from veiviser.settings import Settings


@click.group("insight")
def insight_command() -> None:
    """Statistics: rollups, trend alerts and the visitor-hash secret."""


@insight_command.command("refresh")
@click.pass_obj
def refresh_command(settings: Settings) -> None:
    """Recompute the daily rollups that are not final yet.

    Run it daily (cron) so that every day is rolled up before its
    conversations are purged; the dashboard also refreshes when opened.
    """
    days = _service(settings).refresh()
    click.echo(f"Rolled up {len(days)} day(s).")


@insight_command.command("alerts")
@click.pass_obj
def alerts_command(settings: Settings) -> None:
    """Refresh, test for unusual weeks, and send new flags to the channels."""
    service = _service(settings)
    if not service.channels().enabled:
        click.echo("No alert channel is configured; nothing sent.")
        return
    sent = service.send_alerts()
    click.echo(f"Alerts sent for: {', '.join(sent)}." if sent else "No new flags.")


@insight_command.command("rotate-secret")
@click.pass_obj
def rotate_command(settings: Settings) -> None:
    """Start a new visitor-hash secret; every visitor counts as new afterwards."""
    _service(settings).rotate_secret()
    click.echo("Visitor-hash secret rotated.")


def _service(settings: Settings):  # type: ignore[no-untyped-def]
    from veiviser.service.insight import InsightService
    from veiviser.store import create_engine_for, session_factory, upgrade_database

    engine = create_engine_for(settings.database_url)
    upgrade_database(engine)
    return InsightService(session_factory(engine), settings)
