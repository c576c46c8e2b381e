"""Staff accounts in the admin: create, change role, deactivate, reset password.

Only administrators open these pages.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from veiviser.errors import NotFound, VeiviserError
from veiviser.service import staff
from veiviser.service.staff import Role, StaffUser
from veiviser.web.admin.auth import require_role, staff_sessions, verify_csrf
from veiviser.web.admin.pages import (
    AdminFeature,
    FormText,
    NavItem,
    error_page,
    render,
    see_other,
)

router = APIRouter(prefix="/admin/users", include_in_schema=False)
Administrator = Annotated[StaffUser, Depends(require_role(Role.ADMINISTRATOR))]
# Messages after a change, by the key the redirect names; nothing else is shown.
_DONE = {"created", "updated", "password_reset"}


@router.get("", response_class=HTMLResponse)
def users_page(
    request: Request, user: Administrator, done: str = "", who: str = ""
) -> HTMLResponse:
    """Every account, with forms to add one and change the others."""
    return _page(request, done=done if done in _DONE else None, who=who[:64])


def _page(
    request: Request,
    status_code: int = 200,
    *,
    done: str | None = None,
    who: str = "",
    error: str | None = None,
    error_for: int | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin/users.html",
        status_code=status_code,
        accounts=staff.list_accounts(staff_sessions(request)),
        roles=list(Role),
        done=done,
        who=who,
        error=error,
        error_for=error_for,
        form=form or {"username": "", "role": Role.EDITOR.value},
    )


def _done(kind: str, username: str) -> Response:
    return see_other("/admin/users?" + urlencode({"done": kind, "who": username}))


@router.post("", dependencies=[Depends(verify_csrf)])
def add_user(
    request: Request,
    user: Administrator,
    username: FormText = "",
    password: FormText = "",
    role: FormText = "",
) -> Response:
    """Create an account."""
    try:
        created = staff.create_account(
            staff_sessions(request), username, password, role, user.username
        )
    except VeiviserError as error:
        form = {"username": username[:64], "role": role[:20]}
        return _page(request, 422, error=_error_key(error), form=form)
    return _done("created", created.username)


@router.post("/{user_id}", dependencies=[Depends(verify_csrf)])
def update_user(
    request: Request,
    user: Administrator,
    user_id: int,
    role: FormText = "",
    active: FormText = "",
) -> Response:
    """Change an account's role and whether it may log in."""
    sessions = staff_sessions(request)
    try:
        account = staff.get_account(sessions, user_id)
        staff.update_account(sessions, user_id, role, active == "on", user.username)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    except VeiviserError as error:
        return _page(request, 422, error=_error_key(error), error_for=user_id)
    return _done("updated", account.username)


@router.post("/{user_id}/password", dependencies=[Depends(verify_csrf)])
def reset_password(
    request: Request,
    user: Administrator,
    user_id: int,
    password: FormText = "",
) -> Response:
    """Give another account a new password; its sessions end."""
    sessions = staff_sessions(request)
    try:
        account = staff.get_account(sessions, user_id)
        staff.set_password(sessions, user_id, password, user.username)
    except NotFound:
        return error_page(request, 404, "error.not_found")
    except VeiviserError as error:
        return _page(request, 422, error=_error_key(error), error_for=user_id)
    return _done("password_reset", account.username)


def _error_key(error: VeiviserError) -> str:
    if isinstance(error, staff.AccountInvalid):
        return f"account.{error.reason}"
    return f"account.{error.code}"


feature = AdminFeature(
    router,
    nav=(NavItem("/admin/users", "nav.users", (Role.ADMINISTRATOR,)),),
)
