"""Real servers for end-to-end tests: veiviser itself and a host page.

Everything listens on 127.0.0.1 with a free port and is stopped by the test
that started it.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_LIMIT_SECONDS = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def veiviser_server(
    workdir: Path, *, kb: str | Path = "demo", env: dict[str, str] | None = None
) -> Iterator[RunningServer]:
    """Run ``veiviser serve`` as a real process on a fresh SQLite database."""
    port = free_port()
    log_path = workdir / f"server-{port}.log"
    environment = {
        **os.environ,
        "VEIVISER_DATABASE_URL": f"sqlite:///{workdir / 'veiviser.db'}",
        "VEIVISER_ENCODER": "none",
        "VEIVISER_CACHE_DIR": str(workdir / "cache"),
        **(env or {}),
    }
    # The installed console script, as an operator would start it.
    veiviser = str(Path(sys.executable).with_name("veiviser"))
    command = [
        veiviser, "serve", "--host", "127.0.0.1", "--port", str(port), "--kb", str(kb),
    ]  # fmt: skip
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=workdir, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
    server = RunningServer(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(server: RunningServer) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"veiviser serve exited:\n{server.log()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(server.url + "/", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"veiviser serve did not answer in time:\n{server.log()}")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _HeaderHandler(_QuietHandler):
    """Adds fixed headers (e.g. a strict Content-Security-Policy) to each reply."""

    def __init__(self, *args: object, headers: dict[str, str], **kwargs: object):
        self.extra_headers = headers
        super().__init__(*args, **kwargs)

    def end_headers(self) -> None:
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()


@contextlib.contextmanager
def static_site(folder: Path, headers: dict[str, str] | None = None) -> Iterator[str]:
    """Serve a folder on another local origin (a union's own web site).

    ``headers`` are sent with every reply, as the union's own server would;
    the dict is read per request, so a test may fill it in after start.
    """
    handler = functools.partial(
        _HeaderHandler,
        directory=str(folder),
        headers={} if headers is None else headers,
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_args() -> list[str]:
    """Flags for Debian's chromium; root cannot use its sandbox."""
    return CHROMIUM_ARGS + (["--no-sandbox"] if os.geteuid() == 0 else [])
