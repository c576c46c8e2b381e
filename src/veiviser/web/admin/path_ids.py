"""Admin addresses that can name no page: bad row ids and unknown paths.

SQLite and PostgreSQL keep ids as signed 64-bit integers; a larger number in
a path (``/admin/users/99999999999999999999``) makes the database driver
raise ``OverflowError`` while binding it, which would be a 500, and a word
where a number belongs (``/admin/handover/abc``) would fail the route's own
validation with the API's JSON error. No row can have such an id, so every
admin route answers both with the page for an unknown id, checked once for
all routes instead of in each of them. An admin path that no route serves
for the method (``GET /admin/users/abc``, where only posting exists) gets
the same page, so a logged-in staff member never sees JSON for a bad link.
"""

from __future__ import annotations

import re

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from veiviser.web.admin.auth import current_user
from veiviser.web.admin.pages import error_page

MAX_ROW_ID = 2**63 - 1
_INTEGER = re.compile(r"-?[0-9]+")


class IdOutOfRange(Exception):
    """A path holds an id no database row can have (too large, or no number)."""


def ids_in_range(request: Request) -> None:
    """Refuse a path whose numeric ``..._id`` parameter no row can have.

    It runs before the route's own dependencies and validation, so nobody
    logged in is left to them: they send the browser to the login page, as
    for any id.

    Raises:
        IdOutOfRange: such a parameter was found.
    """
    bad = _bad_id(request)
    # The session is looked up only for a bad id: the route's own
    # dependencies look it up for every other request.
    if bad is not None and current_user(request) is not None:
        raise IdOutOfRange(bad)


def _bad_id(request: Request) -> str | None:
    """The name of the first numeric ``..._id`` parameter no row can have."""
    numeric = _numeric_parameters(request)
    for name, value in request.path_params.items():
        if not name.endswith("_id") or not isinstance(value, str):
            continue
        if not _INTEGER.fullmatch(value):
            if name in numeric:
                return name
            continue  # a text id (an intent's): the route looks it up
        if not -MAX_ROW_ID - 1 <= int(value) <= MAX_ROW_ID:
            return name
    return None


def _numeric_parameters(request: Request) -> set[str]:
    """The path parameters the matched route declares as integers."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return set()
    return {p.name for p in dependant.path_params if p.field_info.annotation is int}


async def _id_out_of_range(request: Request, error: Exception) -> Response:
    return error_page(request, 404, "error.not_found")


def install_handler(app: FastAPI) -> None:
    """Answer bad ids and unknown admin paths with the Norwegian not-found page.

    Other HTTP errors, and any outside ``/admin/`` or for someone not logged
    in, keep the handler installed before this one (the JSON error shape).
    """
    app.add_exception_handler(IdOutOfRange, _id_out_of_range)
    fallback = app.exception_handlers[StarletteHTTPException]

    async def no_such_page(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        unknown = error.status_code in (404, 405)
        if not (unknown and request.url.path.startswith("/admin/")):
            return await fallback(request, error)
        if await run_in_threadpool(current_user, request) is None:
            return await fallback(request, error)
        return error_page(request, 404, "error.not_found")

    app.add_exception_handler(StarletteHTTPException, no_such_page)
