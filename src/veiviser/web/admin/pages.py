"""Rendering admin pages, the navigation, and the pages every role shares.

``render`` is the one way an admin page is made: it adds the user, the CSRF
token, the texts (``t``) and the navigation the user's role may open. Each
feature is an ``AdminFeature``: its router and its entries in the top
navigation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from veiviser.service import staff
from veiviser.service.staff import Role, StaffUser
from veiviser.settings import Settings
from veiviser.web.admin.auth import (
    ANONYMOUS_CSRF_COOKIE,
    SESSION_COOKIE,
    CsrfRejected,
    LoginRequired,
    RoleRefused,
    csrf_token,
    current_user,
    login_url,
    may_open,
    require_role,
    safe_next,
    staff_sessions,
    verify_csrf,
)
from veiviser.web.admin.texts import t, tn
from veiviser.web.ratelimit import (
    Network,
    client_address,
    from_trusted_proxy,
    parse_networks,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC_URL = "/static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["t"] = t
_env.globals["tn"] = tn


@dataclass(frozen=True)
class NavItem:
    """A section in the top navigation, shown to the roles that may open it."""

    path: str
    text_key: str
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class AdminFeature:
    """One feature of the admin pages: its routes and navigation entries."""

    router: APIRouter
    nav: tuple[NavItem, ...] = field(default_factory=tuple)


def render(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render an admin template with the user, CSRF token, texts and navigation.

    Args:
        request: the request being answered.
        template: e.g. ``"admin/intents.html"``; fragments render the same way.
        status_code: the HTTP status of the page.
        context: the template's own values.
    """
    user = current_user(request)
    token = csrf_token(request)
    html = _env.get_template(template).render(
        request=request,
        user=user,
        csrf_token=token,
        nav=_nav_for(request, user),
        static_url=STATIC_URL,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    new_token = getattr(request.state, "new_anonymous_csrf", None)
    if new_token is not None:
        response.set_cookie(
            ANONYMOUS_CSRF_COOKIE,
            new_token,
            httponly=True,
            samesite="strict",
            secure=is_https(request),
            path="/admin",
        )
    return response


def _nav_for(request: Request, user: StaffUser | None) -> list[NavItem]:
    if user is None:
        return []
    items: list[NavItem] = getattr(request.app.state, "admin_nav", [])
    return [item for item in items if may_open(user, item.roles)]


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (cookies are then Secure).

    Behind a reverse proxy that ends TLS, the proxy's ``X-Forwarded-Proto``
    says so; it is believed only from a proxy in VEIVISER_TRUSTED_PROXIES.
    """
    if request.url.scheme == "https":
        return True
    if not from_trusted_proxy(request.scope, _trusted_proxies(request)):
        return False
    proto = request.headers.get("x-forwarded-proto", "")
    return proto.split(",")[0].strip().lower() == "https"


def settings_of(request: Request) -> Settings:
    """The running app's settings."""
    return request.app.state.settings


def error_page(
    request: Request, status_code: int, key: str, **values: object
) -> HTMLResponse:
    """A Norwegian error page; ``key`` names the text under ``error.``.

    ``values`` fill the text's placeholders.
    """
    return render(
        request,
        "admin/error.html",
        status_code=status_code,
        message_key=key,
        message_values=values,
    )


def see_other(url: str) -> RedirectResponse:
    """Redirect a browser after a form (POST → GET)."""
    return RedirectResponse(url, status_code=303)


# --- Handlers for the auth exceptions -------------------------------------


async def _login_required(request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    return see_other(login_url(error.next_path))


async def _role_refused(request: Request, error: Exception) -> Response:
    return error_page(request, 403, "error.forbidden")


async def _csrf_rejected(request: Request, error: Exception) -> Response:
    return error_page(request, 403, "error.csrf")


def install_handlers(app: FastAPI) -> None:
    """Answer the auth exceptions with a redirect or a Norwegian page."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(RoleRefused, _role_refused)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)


# --- Pages every staff member shares --------------------------------------

router = APIRouter(prefix="/admin", include_in_schema=False)
FormText = Annotated[str, Form()]
Anyone = Annotated[StaffUser, Depends(require_role())]


@router.get("", response_class=HTMLResponse)
def home(request: Request, user: Anyone) -> HTMLResponse:
    """The start page: the sections this user may open."""
    return render(request, "admin/home.html")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/admin") -> Response:
    """The login form (or straight on, if already logged in)."""
    if current_user(request) is not None:
        return see_other(safe_next(next))
    return _login_form(request, next)


def _login_form(
    request: Request,
    next_path: str,
    status_code: int = 200,
    error: str | None = None,
    username: str = "",
    **values: object,
) -> HTMLResponse:
    has_admin = staff.has_administrator(staff_sessions(request))
    return render(
        request,
        "admin/login.html",
        status_code=status_code,
        next=safe_next(next_path),
        error=error,
        error_values=values,
        username=username[:64],
        has_admin=has_admin,
    )


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(
    request: Request,
    username: FormText = "",
    password: FormText = "",
    next: FormText = "/admin",
) -> Response:
    """Check the password, start a session and go where the user was heading."""
    settings = settings_of(request)
    throttle = staff.Throttle(
        settings.login_max_failures,
        timedelta(minutes=settings.login_lockout_minutes),
    )
    client = _client_address(request)
    try:
        user = staff.authenticate(
            staff_sessions(request), username, password, client, throttle
        )
    except staff.LoginThrottled as error:
        return _login_form(
            request, next, 429, "login.throttled", username, minutes=error.minutes
        )
    except staff.LoginFailed:
        return _login_form(request, next, 401, "login.failed", username)
    return _start_session(request, user, safe_next(next))


def _client_address(request: Request) -> str:
    """The address failed logins are counted against, as the rate limit sees it."""
    return client_address(request.scope, _trusted_proxies(request))


def _trusted_proxies(request: Request) -> tuple[Network, ...]:
    try:
        return parse_networks(settings_of(request).trusted_proxies)
    except ValueError:
        # The app refuses such a setting at start when the rate limit is on;
        # without it, the nearest peer is the only address that can be trusted.
        return ()


def _start_session(request: Request, user: StaffUser, target: str) -> Response:
    hours = settings_of(request).admin_session_hours
    opened = staff.open_session(staff_sessions(request), user, timedelta(hours=hours))
    response = see_other(target)
    response.set_cookie(
        SESSION_COOKIE,
        opened.cookie,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    response.delete_cookie(ANONYMOUS_CSRF_COOKIE, path="/admin")
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> Response:
    """End the session and return to the login page."""
    staff.close_session(staff_sessions(request), request.cookies.get(SESSION_COOKIE))
    response = see_other("/admin/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/setup", response_class=HTMLResponse)
def setup_page(request: Request, token: str = "") -> HTMLResponse:
    """The one-time form that creates the first administrator."""
    if not staff.setup_token_valid(staff_sessions(request), token):
        return error_page(request, 404, "error.setup_link")
    return render(request, "admin/setup.html", token=token, error=None, username="")


@router.post("/setup", dependencies=[Depends(verify_csrf)])
def setup(
    request: Request,
    token: FormText = "",
    username: FormText = "",
    password: FormText = "",
    password_again: FormText = "",
) -> Response:
    """Create the first administrator and log them in."""
    sessions = staff_sessions(request)
    error: str | None = None
    if password != password_again:
        error = "account.password_mismatch"
    else:
        try:
            user = staff.create_first_administrator(sessions, token, username, password)
        except staff.SetupLinkInvalid:
            return error_page(request, 404, "error.setup_link")
        except staff.AccountInvalid as problem:
            error = f"account.{problem.reason}"
        else:
            return _start_session(request, user, "/admin")
    return render(
        request,
        "admin/setup.html",
        status_code=422,
        token=token[:200],
        error=error,
        username=username[:64],
    )


TOO_LARGE_PATH = "/admin/too-large"


@router.get("/too-large", response_class=HTMLResponse)
def too_large(request: Request, limit: int = 0, kind: str = "form") -> HTMLResponse:
    """What a post over the size limit is shown (see ``BodyLimit``).

    ``limit`` is the limit that applied, in bytes; ``kind`` is ``file`` for
    an upload and ``form`` for a form, which is told to send less text.
    """
    kind = "file" if kind == "file" else "form"
    if limit <= 0:
        return error_page(request, 413, f"error.too_large_{kind}_unknown")
    return error_page(request, 413, f"error.too_large_{kind}", size=shown_size(limit))


def shown_size(size: int) -> str:
    """``size`` bytes in the unit a person expects: "64 kB", "5 MB"."""
    if size >= 1024 * 1024:
        return f"{max(1, round(size / (1024 * 1024)))} MB"
    return f"{max(1, round(size / 1024))} kB"


feature = AdminFeature(router)
