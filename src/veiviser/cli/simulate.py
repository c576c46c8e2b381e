"""``veiviser simulate``: synthetic traffic so a demo dashboard has life."""

from __future__ import annotations

import click
from sqlalchemy import select

from veiviser.settings import Settings

MAX_DAYS = 400


@click.command("simulate")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_DAYS),
    default=70,
    show_default=True,
    help="Spread the traffic over this many past days (today included).",
)
@click.option(
    "--per-day",
    type=click.FloatRange(0.1, 5000),
    default=30.0,
    show_default=True,
    help="Average conversations on a weekday (weekends are quieter).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--spike",
    default=None,
    help="Intent id that gets a planted spike in the last complete week "
    "(default: utmelding if present).",
)
@click.option("--no-spike", is_flag=True, help="Plant no spike.")
@click.option(
    "--if-empty",
    is_flag=True,
    help="Do nothing when the database already holds conversations "
    "(for start-up scripts).",
)
@click.option(
    "--spike-factor",
    type=click.FloatRange(1.0, 50.0),
    default=3.0,
    show_default=True,
    help="The spike topic's traffic as a multiple of its normal.",
)
@click.pass_obj
def simulate_command(
    settings: Settings,
    days: int,
    per_day: float,
    seed: int,
    spike: str | None,
    no_spike: bool,
    spike_factor: float,
    if_empty: bool,
) -> None:
    """Send synthetic member traffic through the real chat pipeline.

    Conversations follow a daily and weekly rhythm, ask the knowledge base's
    own training phrases with small variations, get declined now and then,
    rate replies and come back as returning visitors. Never run this on a
    production database: the traffic cannot be told apart from real traffic.
    """
    from veiviser.insight.simulation import SimulationPlan
    from veiviser.service import Assistant
    from veiviser.service.insight import InsightService, run_simulation
    from veiviser.store.knowledge import read_knowledge_base
    from veiviser.store.models import Conversation

    plan = SimulationPlan(
        days=days,
        conversations_per_day=per_day,
        spike_intent="" if no_spike else spike,
        spike_factor=spike_factor,
        seed=seed,
    )
    assistant = Assistant.open(settings)
    try:
        assistant.prepare()
        with assistant.sessions() as session:
            kb = read_knowledge_base(session)
            busy = session.scalar(select(Conversation.id).limit(1)) is not None
        if if_empty and busy:
            click.echo("The database already holds conversations; nothing simulated.")
            return
        assert kb is not None
        insight = InsightService(assistant.sessions, settings)
        try:
            report = run_simulation(assistant.chat, insight, kb, plan)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--spike") from error
    finally:
        assistant.close()
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
    click.echo(
        f"Simulated {report.conversations} conversations with {report.messages} "
        f"messages and {report.feedback} ratings over {len(report.days)} days "
        f"({outcomes})."
    )
    if report.spike_intent:
        click.echo(f"Planted spike: {report.spike_intent} ×{spike_factor:g}.")
