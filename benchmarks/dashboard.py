"""Dashboard speed with a million stored messages in SQLite.

Run: ``python benchmarks/dashboard.py [--messages 1000000] [--days 365]``.

Seeds conversations and messages straight through the storage models (not
the chat pipeline: a million turns through the model would take hours),
spread over ``--days`` Oslo days with a daily rhythm and a mix of intents
and outcomes, then rolls every day up once (timed) and measures each
dashboard page, CSV and the trends JSON through the ASGI client as a
logged-in analyst: the first load (which refreshes today's rollup) and the
median of five warm loads.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select

from veiviser.service import Assistant, staff
from veiviser.service.insight import InsightService
from veiviser.service.knowledge import import_if_empty
from veiviser.service.staff import Role
from veiviser.settings import Settings
from veiviser.store.models import Conversation, Feedback, KbIntent, Message
from veiviser.web import create_app

OUTCOMES = ("answer",) * 80 + ("fallback",) * 10 + ("clarify",) * 6 + ("multi",) * 2
OUTCOMES += ("handover",) * 2
PER_CONVERSATION = 5  # greeting and two exchanges
BATCH = 20_000
PASSWORD = "benchmark-passord-lang-nok"


def seed(assistant: Assistant, messages: int, days: int, rng: random.Random) -> None:
    """Insert conversations and messages through the storage models."""
    with assistant.sessions() as session:
        intents = list(session.scalars(select(KbIntent.id)))
    weights = [1 / (rank + 1) for rank in range(len(intents))]
    now = datetime.now(UTC)
    conversations = messages // PER_CONVERSATION
    conv_rows, message_rows, feedback_rows = [], [], []
    next_id = 1
    for n in range(conversations):
        start = now - timedelta(
            days=rng.random() * days, hours=rng.gauss(0, 3)
        )  # fmt: skip
        start = min(start, now - timedelta(minutes=5))
        cid = secrets.token_hex(16)
        visitor = f"{rng.randrange(conversations // 3):064x}"
        conv_rows.append(
            {"id": cid, "token_hash": "0" * 64, "created_at": start,
             "last_activity_at": start, "state": {}, "visitor_hash": visitor}
        )  # fmt: skip
        rows = [("assistant", "greeting", None)]
        for _ in range(2):
            outcome = rng.choice(OUTCOMES)
            topical = outcome in ("answer", "multi", "handover")
            intent = rng.choices(intents, weights)[0] if topical else None
            rows += [("member", None, None), ("assistant", outcome, intent)]
        for seq, (role, outcome, intent) in enumerate(rows, start=1):
            message_rows.append(
                {"id": next_id, "conversation_id": cid, "seq": seq, "role": role,
                 "text": "spørsmål" if role == "member" else None,
                 "outcome": outcome, "intent": intent,
                 "intents": [intent] if intent else [],
                 "created_at": start + timedelta(seconds=20 * seq)}
            )  # fmt: skip
            if role == "assistant" and outcome != "greeting" and rng.random() < 0.1:
                feedback_rows.append(
                    {"message_id": next_id, "rating": rng.choice(("up", "up", "down")),
                     "created_at": start + timedelta(seconds=20 * seq + 5)}
                )  # fmt: skip
            next_id += 1
        if len(message_rows) >= BATCH or n == conversations - 1:
            with assistant.sessions.begin() as session:
                session.execute(insert(Conversation), conv_rows)
                session.execute(insert(Message), message_rows)
                if feedback_rows:
                    session.execute(insert(Feedback), feedback_rows)
            conv_rows, message_rows, feedback_rows = [], [], []


def login(client: TestClient, username: str) -> None:
    page = client.get("/admin/login").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post(
        "/admin/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def timed(client: TestClient, path: str) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds of one request (CPU: the whole process,
    which is what the request costs on an idle machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert response.status_code == 200, (path, response.status_code)
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--reuse", type=Path, help="an already seeded database file: measure only"
    )
    args = parser.parse_args()
    path = args.reuse or Path(tempfile.mkdtemp(prefix="veiviser-dashboard-")) / "b.db"
    settings = Settings(
        database_url=f"sqlite:///{path}",
        encoder="none",
        retention_days=args.days + 1,
    )
    assistant = Assistant.open(settings, with_encoder=False)
    if args.reuse is None:
        import_if_empty(assistant.sessions, "demo")
        staff.create_account(assistant.sessions, "analytiker", PASSWORD, Role.ANALYST)
        started = time.perf_counter()
        seed(assistant, args.messages, args.days, random.Random(args.seed))
        elapsed = time.perf_counter() - started
        print(f"seeded {args.messages:,} messages in {elapsed:.0f} s")
    with assistant.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(Message))
    print(f"{stored:,} messages stored")
    started = time.perf_counter()
    days = InsightService(assistant.sessions, settings).refresh()
    print(f"rolled up {len(days)} days in {time.perf_counter() - started:.1f} s")

    client = TestClient(create_app(settings, assistant))
    login(client, "analytiker")
    paths = [
        "/admin/insight?range=7&by=day",
        "/admin/insight?range=30&by=day",
        "/admin/insight?range=90&by=week",
        "/admin/insight?range=365&by=month",
        "/admin/insight/volume.csv?range=365&by=day",
        "/admin/insight/trends.json",
    ]
    # Let the rollups of the last days go stale, as between two visits: the
    # first load then starts a background refresh, the warm loads race it.
    time.sleep(61)
    print()
    print(f"load average: {', '.join(f'{n:.1f}' for n in os.getloadavg())}")
    print()
    print("| page | first load ms (CPU) | warm median of 5 ms (CPU) |")
    print("|---|---|---|")
    for path in paths:
        first = timed(client, path)
        runs = [timed(client, path) for _ in range(5)]
        warm = (
            statistics.median(r[0] for r in runs),
            statistics.median(r[1] for r in runs),
        )
        cells = [f"{wall:.0f} ({cpu:.0f})" for wall, cpu in (first, warm)]
        print(f"| `{path}` | {cells[0]} | {cells[1]} |")
    assistant.close()


if __name__ == "__main__":
    main()
