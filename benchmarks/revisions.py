"""The cost of revisions: recording with every save, and reading the audit log.

Uses a temporary SQLite database (or ``--database-url``) with the demo
knowledge base and measures, in this process:

* the first import with its per-intent revisions (and the snapshot bytes),
* ``save_intent`` of one intent (answer changed), which records a revision
  in the same transaction,
* the audit log's first and last page and a text search once the log holds
  ``--revisions`` entries,
* an intent's history page data.

    python benchmarks/revisions.py                     # 20,000 revisions
    python benchmarks/revisions.py --revisions 100000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable

from sqlalchemy import func, insert, select

from veiviser.content import load_knowledge_base
from veiviser.demo import KB_PATH
from veiviser.service import editing, revisions
from veiviser.service.knowledge import import_knowledge_base
from veiviser.store import create_engine_for, session_factory, upgrade_database
from veiviser.store.models import utc_now
from veiviser.store.models_revisions import ContentRevision


def timed(action: Callable[[], object], repeat: int) -> float:
    """The median milliseconds of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def fill_log(sessions, count: int, snapshot: dict) -> None:
    """Add ``count`` phrase revisions of varied intents and actors, in bulk."""
    rows = [
        {
            "at": utc_now(),
            "actor": f"redaktor{n % 7}",
            "kind": revisions.PHRASES_ADDED,
            "object_type": "intent",
            "object_id": f"intent_{n % 300}",
            "label": f"Intensjon {n % 300}",
            "before": snapshot,
            "after": {**snapshot, "phrases": [*snapshot["phrases"], f"frase {n}"]},
            "object_version": n,
        }
        for n in range(count)
    ]
    with sessions.begin() as session:
        for start in range(0, count, 2000):
            session.execute(insert(ContentRevision), rows[start : start + 2000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=20_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/revisions.db"
    upgrade_database(url)
    sessions = session_factory(create_engine_for(url))
    kb = load_knowledge_base(KB_PATH)

    start = time.perf_counter()
    import_knowledge_base(sessions, kb)
    first_import = (time.perf_counter() - start) * 1000
    with sessions() as session:
        rows = session.scalars(select(ContentRevision)).all()
        size = sum(len(json.dumps([r.before, r.after])) for r in rows)
    phrases = sum(len(i.phrases) for i in kb.intents)
    print(f"demo knowledge base: {len(kb.intents)} intents, {phrases} phrases")
    print(
        f"first import with revisions: {first_import:.0f} ms, {len(rows)} "
        f"revisions, {size / 1024:.0f} KiB of snapshots"
    )

    intent = kb.intents[0]
    counter = iter(range(10**6))

    def save() -> None:
        answer = f"{intent.answer} {next(counter)}"
        changed = intent.model_copy(update={"answer": answer})
        editing.save_intent(
            sessions, changed, expected_version=None, is_new=False, actor="bench"
        )

    print(f"save_intent with its revision: {timed(save, args.repeat):.1f} ms median")

    fill_log(sessions, args.revisions, intent.model_dump(mode="json"))
    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(ContentRevision))
    last = -(-total // revisions.PAGE_SIZE)
    queries = {
        "first page": revisions.AuditQuery(),
        "last page": revisions.AuditQuery(page=last),
        "text search": revisions.AuditQuery(text="intensjon 29"),
        "user + kind": revisions.AuditQuery(
            actor="redaktor3", kind=revisions.PHRASES_ADDED
        ),
    }
    print(f"audit log of {total} revisions (50 a page, diffs computed):")
    for name, query in queries.items():
        ms = timed(lambda q=query: revisions.search(sessions, q), args.repeat)
        print(f"  {name}: {ms:.0f} ms median")
    ms = timed(lambda: revisions.history(sessions, "intent", "intent_7"), args.repeat)
    print(f"history of one intent (up to 200 revisions): {ms:.0f} ms median")


if __name__ == "__main__":
    main()
