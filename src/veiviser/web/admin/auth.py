"""Who is asking, and may they: sessions, roles and CSRF for the admin pages.

Every admin route declares the roles it serves with ``require_role``; every
route that changes something also depends on ``verify_csrf``. An anonymous
browser is sent to the login page with 303; a logged-in user without the
role gets 403 and a Norwegian page saying so.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from fastapi import Request
from sqlalchemy.orm import Session, sessionmaker

from veiviser.service import Assistant
from veiviser.service.staff import (
    ActiveSession,
    Role,
    StaffUser,
    session_for,
    tokens_match,
)

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "CsrfRejected",
    "LoginRequired",
    "Role",
    "RoleRefused",
    "StaffUser",
    "csrf_token",
    "current_user",
    "require_role",
    "verify_csrf",
]

SESSION_COOKIE = "veiviser_admin"
# Before login there is no session to hold the CSRF token, so a cookie does.
ANONYMOUS_CSRF_COOKIE = "veiviser_admin_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginRequired(Exception):
    """Nobody is logged in; the browser goes to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class RoleRefused(Exception):
    """The user is logged in but their role may not open this page."""

    def __init__(self, user: StaffUser) -> None:
        super().__init__(user.username)
        self.user = user


class CsrfRejected(Exception):
    """A changing request without the right CSRF token, or from another site."""


def staff_sessions(request: Request) -> sessionmaker[Session]:
    """The database sessions of the running assistant."""
    assistant: Assistant = request.app.state.assistant
    return assistant.sessions


def current_session(request: Request) -> ActiveSession | None:
    """The session behind the request's cookie (looked up once per request)."""
    if not hasattr(request.state, "staff_session"):
        cookie = request.cookies.get(SESSION_COOKIE)
        request.state.staff_session = session_for(staff_sessions(request), cookie)
    return request.state.staff_session


def current_user(request: Request) -> StaffUser | None:
    """The logged-in staff member, or None."""
    active = current_session(request)
    return active.user if active is not None else None


def may_open(user: StaffUser | None, roles: tuple[Role, ...]) -> bool:
    """Whether ``user`` has one of ``roles`` (administrators have all)."""
    if user is None:
        return False
    return user.role is Role.ADMINISTRATOR or user.role in roles


def require_role(*roles: Role) -> Callable[[Request], StaffUser]:
    """A dependency that returns the logged-in user if their role is allowed.

    With no roles given, any logged-in staff member is allowed.

    Raises (inside the dependency):
        LoginRequired: nobody is logged in (answered with 303 to the login).
        RoleRefused: the user's role is not among ``roles`` (answered 403).
    """
    allowed = tuple(roles) or tuple(Role)

    def dependency(request: Request) -> StaffUser:
        user = current_user(request)
        if user is None:
            raise LoginRequired(_path_with_query(request))
        if not may_open(user, allowed):
            raise RoleRefused(user)
        return user

    dependency.roles = allowed  # type: ignore[attr-defined]
    return dependency


def _path_with_query(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def login_url(next_path: str) -> str:
    """The login page, returning to ``next_path`` afterwards."""
    return f"/admin/login?next={quote(next_path, safe='/')}"


def safe_next(next_path: str | None) -> str:
    """``next_path`` if it stays inside the admin pages, else the start page."""
    if not next_path or not next_path.startswith("/admin"):
        return "/admin"
    parts = urlsplit(next_path)
    if parts.scheme or parts.netloc or "\\" in next_path:
        return "/admin"
    return next_path


def csrf_token(request: Request) -> str:
    """The CSRF token forms of this request's page must send back.

    Logged-in users have one per session; anonymous visitors (the login and
    first-administrator pages) get one in a cookie that ``render`` sets.
    """
    active = current_session(request)
    if active is not None:
        return active.csrf_token
    token = getattr(request.state, "anonymous_csrf", None)
    if token is None:
        token = request.cookies.get(ANONYMOUS_CSRF_COOKIE)
        if not token or len(token) > 100:
            token = secrets.token_urlsafe(32)
            request.state.new_anonymous_csrf = token
        request.state.anonymous_csrf = token
    return token


async def verify_csrf(request: Request) -> None:
    """A dependency that refuses a changing request without the right token.

    The token comes in the ``X-CSRF-Token`` header (fetch requests from
    admin.js) or the form field ``csrf_token``. A request whose Origin names
    another host is refused as well.

    Raises (inside the dependency):
        CsrfRejected: the token is missing or wrong, or the origin is foreign.
    """
    if request.method not in _UNSAFE:
        return
    if not _same_origin(request):
        raise CsrfRejected()
    active = current_session(request)
    expected = (
        active.csrf_token
        if active is not None
        else request.cookies.get(ANONYMOUS_CSRF_COOKIE)
    )
    given = request.headers.get(CSRF_HEADER)
    if given is None and _is_form(request):
        value = (await request.form()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not tokens_match(expected, given):
        raise CsrfRejected()


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Browsers send Origin on every cross-site POST, but "null" on our
        # own forms too, as the pages' referrer policy is no-referrer; then
        # the CSRF token alone decides.
        return True
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host
