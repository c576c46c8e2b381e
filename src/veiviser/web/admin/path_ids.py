"""Row ids in admin paths beyond what the database can hold.

SQLite and PostgreSQL keep ids as signed 64-bit integers; a larger number in
a path (``/admin/users/99999999999999999999``) makes the database driver
raise ``OverflowError`` while binding it, which would be a 500. No row can
have such an id, so every admin route answers it with the page for an
unknown id, checked once for all routes instead of in each of them.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from veiviser.web.admin.auth import current_user
from veiviser.web.admin.pages import error_page

MAX_ROW_ID = 2**63 - 1


class IdOutOfRange(Exception):
    """A path holds an id no database row can have."""


def ids_in_range(request: Request) -> None:
    """Refuse a path whose ``..._id`` parameter is outside the 64-bit range.

    It runs before the route's own dependencies, so nobody logged in is left
    to them: they send the browser to the login page, as for any id.

    Raises:
        IdOutOfRange: such a parameter was found.
    """
    if current_user(request) is None:
        return
    for name, value in request.path_params.items():
        if not name.endswith("_id") or not isinstance(value, str):
            continue
        try:
            number = int(value)
        except ValueError:
            continue  # not a number: the route's own validation answers
        if not -MAX_ROW_ID - 1 <= number <= MAX_ROW_ID:
            raise IdOutOfRange(name)


async def _id_out_of_range(request: Request, error: Exception) -> Response:
    return error_page(request, 404, "error.not_found")


def install_handler(app: FastAPI) -> None:
    """Answer :class:`IdOutOfRange` with the Norwegian not-found page."""
    app.add_exception_handler(IdOutOfRange, _id_out_of_range)
