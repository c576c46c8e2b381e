"""Cost of personal answers: token checks, directory lookups, filling templates.

Imports a synthetic directory of N fictional members into a temporary SQLite
database, then times each step a personal answer adds to a request:

    python benchmarks/members.py               # 10,000 members
    python benchmarks/members.py --members 100000

All members are generated here (``bench-<n>``); no real data is involved.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from veiviser.content.yaml_io import load_knowledge_base
from veiviser.dialogue import Texts
from veiviser.dialogue.personal import render_personal
from veiviser.members.csv_import import import_members
from veiviser.members.identity import TokenPolicy, TokenVerifier
from veiviser.members.tables import TableDirectory
from veiviser.members.templates import fill_template
from veiviser.service.members import preview_personal_answer
from veiviser.store import create_engine_for, session_factory, upgrade_database

DEMO_KB = Path(__file__).resolve().parent.parent / "src" / "veiviser" / "demo" / "kb"
SECRET = "benchmark-secret-" + "x" * 40


def write_directory(folder: Path, members: int, seed: int = 0) -> None:
    """Six CSV files: ~1 representative per 20 members, 3 courses, 12 invoices each."""
    rng = random.Random(seed)
    employers = max(1, members // 20)

    def write(name: str, header: list[str], rows) -> None:
        with (folder / name).open("w", encoding="utf-8", newline="") as f:
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(rows)

    write(
        "employers.csv",
        ["id", "name"],
        ((f"e{i}", f"Arbeidsgiver {i}") for i in range(employers)),
    )
    write(
        "representatives.csv",
        ["id", "employer_id", "name", "role", "email", "phone"],
        (
            (
                f"r{i}",
                f"e{i}",
                f"Tillitsvalgt {i}",
                "Plasstillitsvalgt",
                f"tv{i}@bench.example",
                "+47 000 00 000",
            )
            for i in range(employers)
        ),
    )
    write(
        "members.csv",
        ["id", "member_number", "first_name", "last_name", "joined_on", "employer_id"],
        (
            (
                f"bench-{i}",
                f"B-{i}",
                "Fornavn",
                f"Etternavn{i}",
                "2020-01-01",
                f"e{rng.randrange(employers)}",
            )
            for i in range(members)
        ),
    )
    write(
        "courses.csv",
        ["id", "title", "starts_on", "place"],
        ((f"c{i}", f"Kurs {i}", "2027-03-01", "Oslo") for i in range(50)),
    )
    write(
        "enrolments.csv",
        ["member_id", "course_id", "status"],
        (
            (f"bench-{i}", f"c{c}", "enrolled")
            for i in range(members)
            for c in rng.sample(range(50), 3)
        ),
    )
    invoices = (
        (f"I{i}-{m}", f"bench-{i}", f"2026-{m:02d}", "512.50",
         f"2026-{m:02d}-20", f"2026-{m:02d}-18")
        for i in range(members)
        for m in range(1, 13)
    )  # fmt: skip
    header = ["number", "member_id", "period", "amount", "due_on", "paid_on"]
    write("invoices.csv", header, invoices)


def timed(label: str, repeat: int, step: Callable[[int], object]) -> None:
    samples = []
    for i in range(repeat):
        start = time.perf_counter()
        step(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"| {label} | {statistics.median(samples):.3f} | {p95:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "csv"
        folder.mkdir()
        write_directory(folder, args.members)
        engine = create_engine_for(f"sqlite:///{work}/bench.db")
        upgrade_database(engine)
        sessions = session_factory(engine)
        start = time.perf_counter()
        summary = import_members(sessions, folder)
        print(f"import of {summary}: {time.perf_counter() - start:.1f} s\n")

        print("| step | median ms | p95 ms |")
        print("|---|---|---|")
        hs = TokenVerifier(TokenPolicy(("HS256",), "bench", "veiviser", secret=SECRET))
        now = int(time.time())
        claims = {"iss": "bench", "aud": "veiviser", "exp": now + 300}
        hs_tokens = [
            jwt.encode({**claims, "sub": f"bench-{i}"}, SECRET) for i in range(50)
        ]
        timed("verify HS256 token", args.repeat, lambda i: hs.verify(hs_tokens[i % 50]))
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = (
            key.public_key()
            .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        rs = TokenVerifier(TokenPolicy(("RS256",), "bench", "veiviser", public_key=pem))
        rs_token = jwt.encode({**claims, "sub": "bench-1"}, key, "RS256")
        timed("verify RS256 token", args.repeat, lambda i: rs.verify(rs_token))

        directory = TableDirectory(sessions)
        rng = random.Random(1)
        timed(
            f"look up a member ({args.members:,} in SQLite)",
            args.repeat,
            lambda i: directory.lookup(f"bench-{rng.randrange(args.members)}"),
        )
        record = directory.lookup("bench-1")
        assert record is not None
        kb = load_knowledge_base(DEMO_KB)
        texts = Texts(kb.organisation, kb.texts)
        for intent_id in ("faktura", "kurs", "tillitsvalgt", "medlemsbevis"):
            template = kb.intent(intent_id).personal_answer or ""
            # Uncached, as the chat renders personal answers.
            timed(
                f"fill and render `{intent_id}`",
                args.repeat,
                lambda i, t=template: render_personal(
                    fill_template(t, record, texts.get, date(2026, 12, 4))
                ),
            )
        kurs = kb.intent("kurs").personal_answer or ""
        start = time.perf_counter()
        preview_personal_answer(kurs, "demo-kari", texts.get)
        first = (time.perf_counter() - start) * 1000
        print(
            f"| editor preview, first in a process (loads demo members) "
            f"| {first:.1f} | |"
        )
        timed(
            "editor preview of `kurs` for a demo member",
            args.repeat,
            lambda i: preview_personal_answer(kurs, "demo-ola", texts.get),
        )
        engine.dispose()


if __name__ == "__main__":
    main()
