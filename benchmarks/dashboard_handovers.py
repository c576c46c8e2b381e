"""The dashboard's handover figures: how long reading them takes.

Seeds handovers (each with its conversation; three in four taken after a
random wait, one in ten with a ticket) spread over the retention period
through the storage models into SQLite, then times the readers the
dashboard calls: the daily series, the monthly series and the totals.

Run: ``python benchmarks/dashboard_handovers.py [--handovers 30000] [--days 90]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from veiviser.insight.clock import oslo_day
from veiviser.insight.handovers import handover_series, handover_totals
from veiviser.store import create_engine_for, session_factory, upgrade_database
from veiviser.store.models import Conversation
from veiviser.store.models_handover import Handover, HandoverTicket


def seed(sessions, handovers: int, days: int, now: datetime) -> None:
    rng = random.Random(0)
    batch = 2000
    for start in range(0, handovers, batch):
        with sessions.begin() as session:
            for n in range(start, min(start + batch, handovers)):
                asked = now - timedelta(seconds=rng.uniform(0, days * 86400))
                conversation = f"{n:032x}"
                session.add(
                    Conversation(
                        id=conversation,
                        token_hash="0" * 64,
                        state={},
                        created_at=asked,
                        last_activity_at=asked,
                    )
                )
                taken = rng.random() < 0.75
                claimed = asked + timedelta(seconds=rng.expovariate(1 / 240))
                session.add(
                    Handover(
                        conversation_id=conversation,
                        status="ended",
                        reason="asked",
                        requested_at=asked,
                        first_claimed_at=claimed if taken else None,
                        claimed_at=claimed if taken else None,
                    )
                )
                if rng.random() < 0.1:
                    session.add(
                        HandoverTicket(
                            contact="x", message="x", consent_text="x", created_at=asked
                        )
                    )


def timed(call, runs: int = 5) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds of ``runs`` calls after a first."""
    call()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handovers", type=int, default=30_000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()

    path = Path(tempfile.mkdtemp(prefix="veiviser-handovers-")) / "b.db"
    engine = create_engine_for(f"sqlite:///{path}")
    upgrade_database(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    started = time.perf_counter()
    seed(sessions, args.handovers, args.days, now)
    print(f"seeded {args.handovers} handovers in {time.perf_counter() - started:.0f} s")

    today = oslo_day(now)
    first = today - timedelta(days=args.days - 1)
    year = today - timedelta(days=364)
    readers = {
        f"series, {args.days} days by day": lambda s: handover_series(
            s, first, today, "day"
        ),
        "series, 365 days by month": lambda s: handover_series(s, year, today, "month"),
        f"totals, {args.days} days": lambda s: handover_totals(s, first, today),
    }
    print("| reader | median of 5 ms (CPU ms) |\n|---|---|")
    for name, reader in readers.items():

        def call(reader=reader) -> None:
            with sessions() as session:
                reader(session)

        wall_ms, cpu_ms = timed(call)
        print(f"| {name} | {wall_ms:.0f} ({cpu_ms:.0f}) |")
    engine.dispose()


if __name__ == "__main__":
    main()
