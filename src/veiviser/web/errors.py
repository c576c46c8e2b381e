"""One JSON error shape for every failure, with Norwegian text for members.

``{"error": {"code": "...", "message": "...", "details": {...}}}``: ``code``
is stable for programs, ``message`` is shown to members as it is, and
``details`` carries what a program needs (the limit that was exceeded, the
fields that were wrong). Input is never echoed back.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from veiviser.dialogue import Texts
from veiviser.errors import VeiviserError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    # FastAPI answers 400 only for a body it cannot decode at all.
    400: "invalid_json",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
    415: "invalid_request",
}


def error_body(
    code: str, details: dict[str, Any] | None = None, texts: Texts | None = None
) -> dict[str, Any]:
    """The error document for ``code``, with the member text for it."""
    texts = texts or Texts()
    details = details or {}
    key = f"error_{code}"
    message = texts.get(key if key in texts else "error_default", **details)
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(
    status: int,
    code: str,
    details: dict[str, Any] | None = None,
    texts: Texts | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON response in the one error shape."""
    return JSONResponse(
        error_body(code, details, texts), status_code=status, headers=headers
    )


def _texts(request: Request) -> Texts:
    holder = getattr(request.app.state, "assistant", None)
    runtime = holder.models.current if holder is not None else None
    return runtime.view.texts if runtime is not None else Texts()


def _code_with_text(error: VeiviserError, texts: Texts) -> str:
    # A specific code without its own text borrows the nearest parent's.
    for cls in type(error).__mro__:
        code = getattr(cls, "code", None)
        if code and f"error_{code}" in texts:
            return code
    return error.code


async def _veiviser_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, VeiviserError)
    texts = _texts(request)
    if error.status >= 500:
        log.warning("%s: %s", error.code, error.message)
    body = error_body(_code_with_text(error, texts), error.details, texts)
    body["error"]["code"] = error.code
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(body, status_code=error.status, headers=headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        {
            "location": [str(part) for part in item.get("loc", ())],
            "type": item.get("type", "invalid"),
            "problem": item.get("msg", ""),
        }
        for item in error.errors()
    ]
    if any(item["type"] == "json_invalid" for item in problems):
        return error_response(400, "invalid_json", texts=_texts(request))
    return error_response(
        422, "invalid_request", {"problems": problems}, texts=_texts(request)
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, "error")
    return error_response(
        error.status_code, code, texts=_texts(request), headers=error.headers
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", texts=_texts(request))


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure through the one error shape."""
    app.add_exception_handler(VeiviserError, _veiviser_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
