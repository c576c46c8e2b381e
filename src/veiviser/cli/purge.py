"""``veiviser purge``: delete conversations older than the retention period."""

from __future__ import annotations

import click

from veiviser.settings import Settings


@click.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Retention in days [setting VEIVISER_RETENTION_DAYS].",
)
@click.option(
    "--dry-run", is_flag=True, help="Only count what would be deleted; delete nothing."
)
@click.pass_obj
def purge_command(settings: Settings, days: int | None, dry_run: bool) -> None:
    """Delete conversations idle for longer than the retention period.

    Their messages, feedback and handover rows go with them; the daily
    statistics of those days are brought up to date first. `veiviser serve`
    does the same once a day.
    """
    from veiviser.service import Assistant
    from veiviser.service.retention import count_expired, cutoff_for, purge
    from veiviser.store.models import utc_now

    retention = days if days is not None else settings.retention_days
    assistant = Assistant.open(settings, with_encoder=False)
    try:
        if dry_run:
            cutoff = cutoff_for(utc_now(), retention)
            found = count_expired(assistant.sessions, cutoff)
            click.echo(
                f"{found} conversation(s) idle since before {cutoff:%Y-%m-%d %H:%M} "
                "UTC would be deleted."
            )
            return
        result = purge(assistant.sessions, retention)
    finally:
        assistant.close()
    click.echo(
        f"Deleted {result.conversations} conversation(s) with {result.messages} "
        f"message(s) idle since before {result.cutoff:%Y-%m-%d %H:%M} UTC."
    )
