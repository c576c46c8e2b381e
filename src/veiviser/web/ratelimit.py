"""Requests per client per minute on the public API, refused with 429 above it.

A fixed one-minute window per client address, counted in this process's
memory. Why not in the database: the check runs on every API request, and a
shared counter would add a write to each of them, on SQLite the one writer
that every turn already waits for. The price is that N processes behind a
proxy that spreads one client over all of them let that client make up to N
times the limit; divide the setting by N, or let the reverse proxy limit
(docs/operations.md shows nginx's ``limit_req``) when the bound must be exact.

The client is the TCP peer. Behind a reverse proxy every request comes from
the proxy, so ``X-Forwarded-For`` is believed only when the peer is listed in
``VEIVISER_TRUSTED_PROXIES``; otherwise anyone could choose their own address
by sending the header.
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from veiviser.web.errors import error_body

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
WINDOW_SECONDS = 60
LIMITED_PREFIX = "/api/"


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses and networks (``10.0.0.0/8``) from the trusted-proxy setting.

    Raises:
        ValueError: an entry is not an address or network.
    """
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The client's address, seen through trusted proxies only.

    ``X-Forwarded-For`` lists the addresses each proxy saw, the nearest last;
    walking from the right, the first address that is not a trusted proxy is
    the client.
    """
    peer = (scope.get("client") or ("unknown", 0))[0]
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = _forwarded_for(scope)
    for hop in reversed(forwarded):
        if not _is_trusted(hop, trusted):
            return hop
    return forwarded[0] if forwarded else peer


def from_trusted_proxy(scope: Scope, trusted: tuple[Network, ...]) -> bool:
    """Whether the TCP peer is one of the ``trusted`` proxies."""
    peer = (scope.get("client") or ("unknown", 0))[0]
    return _is_trusted(peer, trusted)


def _forwarded_for(scope: Scope) -> list[str]:
    hops: list[str] = []
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-for":
            hops.extend(part.strip() for part in value.decode("latin-1").split(","))
    return [hop for hop in hops if hop]


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


# Limitation: counts live in each process, so N processes behind a proxy that
# spreads one client over all of them allow up to N times the limit; a shared
# counter (a fixed-window row per client in the database, or nginx limit_req)
# would retire this when an exact bound across processes is needed.
class FixedWindow:
    """Counts per key in the current window; thread-safe, memory per window.

    Args:
        limit: requests allowed per key and window.
        clock: seconds as a float (a test's clock, or ``time.monotonic``).
    """

    def __init__(
        self,
        limit: int,
        window_seconds: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self._window_start = math.floor(clock() / window_seconds) * window_seconds
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> float | None:
        """Count one request; the seconds to wait if it is over the limit."""
        now = self.clock()
        with self._lock:
            start = math.floor(now / self.window) * self.window
            if start != self._window_start:
                # A new window forgets every client: memory stays bounded by
                # the clients of one minute.
                self._window_start, self._counts = start, {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count <= self.limit:
            return None
        return start + self.window - now


class RateLimit:
    """ASGI middleware: 429 in the JSON error shape, with Retry-After.

    Only the public API (``/api/...``) is limited; the chat page, static
    files and the operations endpoints are not.
    """

    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        trusted_proxies: tuple[Network, ...] = (),
        clock: Callable[[], float] = time.monotonic,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        self.app = app
        self.windows = FixedWindow(per_minute, clock=clock)
        self.trusted = trusted_proxies
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(
            LIMITED_PREFIX
        ):
            await self.app(scope, receive, send)
            return
        wait = self.windows.hit(client_address(scope, self.trusted))
        if wait is None:
            await self.app(scope, receive, send)
            return
        if self.on_refused is not None:
            self.on_refused()
        await self._refuse(send, max(1, math.ceil(wait)))

    async def _refuse(self, send: Send, retry_after: int) -> None:
        details = {"retry_after_seconds": retry_after, "limit": self.windows.limit}
        body = json.dumps(error_body("rate_limited", details), ensure_ascii=False)
        encoded = body.encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(encoded)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": encoded})
