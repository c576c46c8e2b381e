"""Log output of a server process: plain lines or JSON lines, with request ids.

Library modules only call ``logging.getLogger(__name__)``; this module is the
one place that installs handlers, and only the CLI calls it. Every record
written while a request is served carries that request's id, so the lines of
one request can be found together across the web, service and store layers.

Nothing here adds personal data: the request log names the route template
(``/api/v1/conversations/{conversation_id}/messages``), never the path with
its ids, the query string, the body or the client's address.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import sys
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "veiviser_request_id", default=None
)
# An id from a proxy (X-Request-ID) is kept only if it looks like one.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "taskName"}
)
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def new_request_id(offered: str | None = None) -> str:
    """The id of a request: the proxy's, if well-formed, else a fresh one."""
    if offered and _SAFE_ID.match(offered):
        return offered
    return secrets.token_hex(8)


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or "-") on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id.

    Fields passed with ``extra=`` are added as they are. An exception is
    given by its type and the place it was raised, not by its message, as
    database errors may quote the values of a statement.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or "-",
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            error, _, trace = record.exc_info
            entry["error"] = error.__name__
            if trace is not None:
                while trace.tb_next is not None:
                    trace = trace.tb_next
                code = trace.tb_frame.f_code
                entry["error_at"] = f"{code.co_filename}:{trace.tb_lineno}"
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(*, json_lines: bool, level: int = logging.INFO) -> None:
    """Send veiviser's and the web server's logs to stderr in one format.

    Args:
        json_lines: JSON lines (``VEIVISER_LOG_JSON``) or plain text.
        level: the lowest level written for veiviser's own loggers.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter(PLAIN_FORMAT)
    )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("veiviser").setLevel(level)
    # Uvicorn's own loggers come through the same handler; its access log is
    # replaced by veiviser's request log, which leaves client addresses out.
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_log = logging.getLogger(name)
        uvicorn_log.handlers.clear()
        uvicorn_log.propagate = True
        uvicorn_log.setLevel(logging.INFO)
    logging.getLogger("uvicorn.access").disabled = True
