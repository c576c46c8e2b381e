"""What operators and their tools read: health, readiness, metrics, request log.

``/healthz`` answers while the process runs (a liveness probe); ``/readyz``
answers 200 only when the database can be reached and a model is loaded (a
load balancer's readiness check); ``/metrics`` is the Prometheus text format.

Metrics are per process: each ``veiviser serve`` listens on its own port and
is scraped on its own, and Prometheus sums them. When several workers share
one port (``veiviser serve --workers N``), ``serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` adds up every worker's files.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veiviser.logs import REQUEST_ID, new_request_id
from veiviser.service import Assistant
from veiviser.web.errors import error_response

log = logging.getLogger(__name__)
access_log = logging.getLogger("veiviser.web.requests")

MESSAGES_PATH = "/api/v1/conversations/{conversation_id}/messages"
# Latency buckets around the 100 ms a member's reply should stay under.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5)

REQUESTS = Counter(
    "veiviser_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "veiviser_http_request_duration_seconds",
    "Time from request to the end of the response, by route template.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
IN_PROGRESS = Gauge(
    "veiviser_http_requests_in_progress",
    "Requests being served now (the process's own queue).",
    multiprocess_mode="livesum",
)
MESSAGES = Counter(
    "veiviser_messages",
    "Member messages answered, by the reply's outcome.",
    ["outcome"],
)
MODEL_VERSION = Gauge(
    "veiviser_model_version",
    "Id of the model this process answers with (0: none loaded).",
    multiprocess_mode="max",
)
RATE_LIMITED = Counter(
    "veiviser_rate_limited_requests", "Public API requests refused with 429."
)


class DatabaseCollector(Collector):
    """Queue sizes read from the database when metrics are scraped.

    They are the same for every process, so each reports the shared truth
    rather than a share of it.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Any:
        assistant: Assistant | None = getattr(self.app.state, "assistant", None)
        if assistant is None:
            return
        handovers = GaugeMetricFamily(
            "veiviser_handover_queue",
            "Conversations waiting for or talking with an advisor, by status.",
            labels=["status"],
        )
        tickets = GaugeMetricFamily(
            "veiviser_handover_tickets_open", "Messages left for advisors, not closed."
        )
        try:
            counts, open_tickets = _queue_sizes(assistant)
        except SQLAlchemyError as error:
            log.warning("metrics: queue sizes unavailable (%s)", type(error).__name__)
            return
        for status in ("queued", "active"):
            handovers.add_metric([status], counts.get(status, 0))
        tickets.add_metric([], open_tickets)
        yield handovers
        yield tickets


def _queue_sizes(assistant: Assistant) -> tuple[dict[str, int], int]:
    from veiviser.store.models_handover import Handover, HandoverTicket

    with assistant.sessions() as session:
        rows = session.execute(
            select(Handover.status, func.count())
            .where(Handover.status.in_(("queued", "active")))
            .group_by(Handover.status)
        )
        counts = {status: count for status, count in rows}
        open_tickets = session.scalar(
            select(func.count())
            .select_from(HandoverTicket)
            .where(HandoverTicket.status == "open")
        )
    return counts, open_tickets or 0


router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> Response:
    """The process can answer members: database reachable, model loaded."""
    assistant: Assistant | None = request.app.state.assistant
    database = assistant is not None and _database_reachable(assistant)
    runtime = assistant.models.current if assistant is not None else None
    checks = {"database": database, "model": runtime is not None}
    if not all(checks.values()):
        return error_response(503, "not_ready", {"checks": checks})
    assert runtime is not None
    return JSONResponse(
        {
            "status": "ready",
            "checks": checks,
            "model_version": runtime.model_version_id,
            "kb_revision": runtime.kb_revision,
        }
    )


def _database_reachable(assistant: Assistant) -> bool:
    try:
        with assistant.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("readiness: database unreachable (%s)", type(error).__name__)
        return False
    return True


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus metrics of this process (or of every worker on this port)."""
    assistant: Assistant | None = request.app.state.assistant
    runtime = assistant.models.current if assistant is not None else None
    MODEL_VERSION.set(runtime.model_version_id if runtime is not None else 0)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(DatabaseCollector(request.app))
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY) + generate_latest(_database_registry(request))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _database_registry(request: Request) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(request.app))
    return registry


class RequestContext:
    """Request id, request log line and metrics for every HTTP request.

    The id comes from a trusted ``X-Request-ID`` or is made here; it is on
    every log line written while the request is served and is sent back in
    the ``X-Request-ID`` response header, so a member's error report can be
    matched with the log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id(_header(scope, b"x-request-id"))
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        outcome = _OutcomeReader(scope)

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            elif message["type"] == "http.response.body":
                outcome.feed(message.get("body", b""))
            await send(message)

        IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, observed)
        finally:
            IN_PROGRESS.dec()
            seconds = time.perf_counter() - started
            self._record(scope, status, seconds, outcome)
            REQUEST_ID.reset(token)

    @staticmethod
    def _record(
        scope: Scope, status: int, seconds: float, outcome: _OutcomeReader
    ) -> None:
        route = route_template(scope)
        method = scope.get("method", "-")
        REQUESTS.labels(route, method, str(status)).inc()
        LATENCY.labels(route, method).observe(seconds)
        if status == 200 and route == MESSAGES_PATH and method == "POST":
            MESSAGES.labels(outcome.outcome()).inc()
        access_log.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={"method": method, "route": route, "status": status,
                   "ms": round(seconds * 1000, 1)},
        )  # fmt: skip


class _OutcomeReader:
    """Collects the body of a reply to a member's message to read its outcome."""

    LIMIT = 256 * 1024

    def __init__(self, scope: Scope) -> None:
        self.wanted = scope.get("method") == "POST" and scope.get("path", "").endswith(
            "/messages"
        )
        self.body = bytearray()

    def feed(self, chunk: bytes) -> None:
        if self.wanted and len(self.body) + len(chunk) <= self.LIMIT:
            self.body.extend(chunk)

    def outcome(self) -> str:
        try:
            value = json.loads(self.body).get("outcome")
        except (ValueError, AttributeError):
            return "unknown"
        return value if isinstance(value, str) and len(value) <= 32 else "unknown"


def route_template(scope: Scope) -> str:
    """The route a request matched, with its ids as ``{names}``; bounded labels."""
    path: str = scope.get("path", "")
    if path.startswith(("/static/", "/docs/assets/")):
        return path.split("/", 2)[1].join(("/", "/*"))
    if "endpoint" not in scope:
        return "unmatched"
    for name, value in (scope.get("path_params") or {}).items():
        path = path.replace(f"/{value}", f"/{{{name}}}", 1)
    return path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def install_ops(app: FastAPI) -> None:
    """Add the operations routes and the request context middleware."""
    app.include_router(router)
    app.add_middleware(RequestContext)
