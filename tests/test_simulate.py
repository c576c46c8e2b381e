"""``veiviser simulate``: synthetic traffic through the real chat pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from test_store_support import small_kb, write_kb
from veiviser.cli.main import cli
from veiviser.insight.clock import oslo_day
from veiviser.insight.simulation import SimulationPlan, TrafficModel
from veiviser.store import create_engine_for, session_factory
from veiviser.store.models import Conversation, Feedback, Message
from veiviser.store.models_insight import InsightDay


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "VEIVISER_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'sim.db'}",
        "VEIVISER_ENCODER": "none",
        "VEIVISER_CACHE_DIR": str(tmp_path / "cache"),
        "VEIVISER_KB": str(write_kb(tmp_path)),
    }


def run(env: dict[str, str], *args: str):
    result = CliRunner().invoke(cli, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_simulate_seven_days_fills_rollups_through_the_pipeline(env):
    result = run(env, "simulate", "--days", "7", "--per-day", "8", "--seed", "1")

    assert result.exit_code == 0, result.output
    assert "Simulated" in result.output
    engine = create_engine_for(env["VEIVISER_DATABASE_URL"])
    with session_factory(engine)() as session:
        days = session.scalars(select(InsightDay).order_by(InsightDay.day)).all()
        outcomes = set(
            session.scalars(select(Message.outcome).where(Message.role == "assistant"))
        )
        first_seen = session.scalar(select(func.min(Conversation.created_at)))
        hashes = session.scalars(select(Conversation.visitor_hash)).all()
        feedback = session.scalar(select(func.count()).select_from(Feedback))
    engine.dispose()
    assert len(days) == 7
    assert days[-1].day == oslo_day(datetime.now(UTC))
    assert sum(d.conversations for d in days) > 20
    assert sum(d.member_messages for d in days) == sum(
        d.answered + d.clarified + d.declined + d.handovers for d in days
    )
    # Spread over the week, not all now; declines and answers both occur.
    assert first_seen < datetime.now(UTC) - timedelta(days=4)
    assert {"answer", "fallback"} <= outcomes
    assert all(h and len(h) == 64 for h in hashes)
    assert sum(d.returning_visitors for d in days) > 0
    assert feedback > 0


def test_simulate_refuses_a_spike_in_an_unknown_intent(env):
    result = run(env, "simulate", "--days", "1", "--spike", "finnes_ikke")

    assert result.exit_code == 2
    assert "finnes_ikke" in result.output


@pytest.mark.parametrize("days", ["0", "-3", "abc", "100000"])
def test_simulate_rejects_impossible_day_counts(env, days):
    result = run(env, "simulate", "--days", days)

    assert result.exit_code == 2


def test_traffic_model_is_reproducible_and_varies_phrases():
    kb = small_kb()
    first = TrafficModel(kb, SimulationPlan(days=7, seed=5))
    second = TrafficModel(kb, SimulationPlan(days=7, seed=5))

    questions = [first.question() for _ in range(40)]

    assert questions == [second.question() for _ in range(40)]
    phrases = {p for i in kb.intents for p in i.phrases} | set(kb.decline_examples)
    assert any(q not in phrases for q in questions)  # small variations
    assert first.spike in {i.id for i in kb.intents}


def test_if_empty_simulates_only_into_an_empty_database(env):
    first = run(env, "simulate", "--days", "2", "--per-day", "20", "--if-empty")
    second = run(env, "simulate", "--days", "2", "--per-day", "20", "--if-empty")

    assert first.exit_code == 0 and "Simulated" in first.output
    assert second.exit_code == 0 and "nothing simulated" in second.output
