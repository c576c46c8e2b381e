"""Handover: how fast the queue, the claims and the live events are.

Runs the handover service directly against SQLite (a temporary file) or
PostgreSQL (--pg-url), with the small test knowledge base and no encoder:

- queue: N members ask for a person; the time per request and the time to
  read the queue with N waiting;
- claims: A advisors race for every queued conversation at once in real
  threads; each must be taken exactly once;
- events: a member and an advisor exchange M messages; the time to append
  one event and to read everything after a number (what a stream poll does).

    python benchmarks/handover.py --database sqlite
    python benchmarks/handover.py --database postgresql --pg-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from test_store_support import open_assistant, settings_for, write_kb
from veiviser.handover.errors import AlreadyClaimed

# A Wednesday morning in Oslo: open under the default hours.
OPEN = datetime(2027, 3, 3, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Advisor:
    id: int
    username: str


def ms(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) > 1 else ordered[0]
    return f"median {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"


def run(url: str, members: int, advisors: int, messages: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        assistant = open_assistant(settings_for(url, write_kb(Path(work))))
        service = assistant.handover
        service.clock = lambda: OPEN
        team = [Advisor(i + 1, f"radgiver{i + 1}") for i in range(advisors)]
        for advisor in team:
            service.set_available(advisor, True)
        try:
            _queue(assistant, members)
            _claims(service, team, members)
            _events(assistant, team[0], messages)
        finally:
            assistant.close()


def _queue(assistant, members: int) -> None:
    service = assistant.handover
    times = []
    for _ in range(members):
        new = assistant.chat.start()
        started = time.perf_counter()
        service.request(new.id, new.token)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    waiting = service.queue_entries()
    read = time.perf_counter() - started
    print(
        f"queue: {members} requests, {ms(times)} each; reading {len(waiting)}"
        f" waiting took {read * 1000:.1f} ms"
    )


def _claims(service, team: list[Advisor], members: int) -> None:
    ids = [entry.id for entry in service.queue_entries()]
    wins = {advisor.username: 0 for advisor in team}
    duplicates = 0
    started = time.perf_counter()
    for handover_id in ids:
        winners = _race(service, team, handover_id)
        duplicates += len(winners) - 1
        for name in winners:
            wins[name] += 1
    elapsed = time.perf_counter() - started
    print(
        f"claims: {len(ids)} conversations x {len(team)} advisors at once in "
        f"{elapsed:.2f} s; taken twice: {duplicates}; spread {sorted(wins.values())}"
    )


def _race(service, team: list[Advisor], handover_id: int) -> list[str]:
    barrier = threading.Barrier(len(team))
    winners: list[str] = []

    def take(advisor: Advisor) -> None:
        barrier.wait()
        try:
            service.claim(advisor, handover_id)
            winners.append(advisor.username)
        except AlreadyClaimed:
            pass

    threads = [threading.Thread(target=take, args=(a,)) for a in team]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return winners


def _events(assistant, advisor: Advisor, messages: int) -> None:
    service = assistant.handover
    new = assistant.chat.start()
    service.request(new.id, new.token)
    handover_id = service.queue_entries()[-1].id
    service.claim(Advisor(999, "benk"), handover_id)
    send, read = [], []
    for n in range(messages):
        started = time.perf_counter()
        service.send(new.id, new.token, f"melding {n}")
        send.append(time.perf_counter() - started)
        started = time.perf_counter()
        service.read_events(new.id, n)
        read.append(time.perf_counter() - started)
    print(
        f"events: {messages} member messages; append {ms(send)}; "
        f"read after a number {ms(read)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite"
    )
    parser.add_argument("--pg-url", default="")
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--advisors", type=int, default=4)
    parser.add_argument("--messages", type=int, default=300)
    args = parser.parse_args()
    if args.database == "postgresql":
        if not args.pg_url:
            parser.error("--pg-url is needed for PostgreSQL")
        url = args.pg_url
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    print(f"database: {args.database}")
    run(url, args.members, args.advisors, args.messages)


if __name__ == "__main__":
    main()
