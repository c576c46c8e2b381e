"""Every admin route for every role: anonymous to login, wrong role 403.

The routes are read from the admin features themselves, so a route that any
feature adds joins this table without editing it. Each route's roles come
from its ``require_role`` dependency; a route without one (other than the
login and first-administrator pages) fails the contract test below.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from test_admin_support import add_staff, login, page_csrf
from test_store_support import (
    _postgres_database,
    open_assistant,
    settings_for,
    write_kb,
)
from veiviser.service.staff import Role
from veiviser.web import create_app
from veiviser.web.admin import FEATURES
from veiviser.web.admin.auth import verify_csrf

# Reachable without logging in: they are how one logs in.
PUBLIC = {
    ("GET", "/admin/login"),
    ("POST", "/admin/login"),
    ("GET", "/admin/setup"),
    ("POST", "/admin/setup"),
    ("POST", "/admin/logout"),
    # Shown for any form post over the size limit, the login form's included.
    ("GET", "/admin/too-large"),
}
# A value for each path parameter; a feature with a new parameter adds it here.
PATH_VALUES = {
    "user_id": "1",
    "intent_id": "ferie",
    "phrase_index": "0",
    "handover_id": "1",
    "ticket_id": "1",
    "day": "2027-05-06",
    "task_id": "1",
    "conversation_id": "0123456789abcdef0123456789abcdef",
    "name": "volume",
    "question_id": "1",
    "check_id": "1",
    "revision_id": "1",
}


@dataclass(frozen=True)
class AdminRoute:
    method: str
    path: str
    roles: tuple[Role, ...] | None
    csrf: bool

    @property
    def url(self) -> str:
        url = self.path
        for name, value in PATH_VALUES.items():
            url = url.replace("{" + name + "}", value)
        assert "{" not in url, f"add a value for the parameter in {self.path}"
        return url

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _dependencies(route: APIRoute) -> list:
    found, stack = [], list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def admin_routes() -> list[AdminRoute]:
    """Every route of every admin feature, with the roles it allows."""
    routes = []
    for route in (r for feature in FEATURES for r in feature.router.routes):
        assert isinstance(route, APIRoute)
        assert route.path.startswith("/admin"), route.path
        calls = _dependencies(route)
        roles = next((c.roles for c in calls if hasattr(c, "roles")), None)
        for method in sorted(route.methods):
            routes.append(AdminRoute(method, route.path, roles, verify_csrf in calls))
    return routes


ROUTES = admin_routes()
PROTECTED = [r for r in ROUTES if (r.method, r.path) not in PUBLIC]


def test_every_admin_route_names_its_roles():
    assert PROTECTED, "no admin routes were found"
    unguarded = [str(r) for r in PROTECTED if r.roles is None]
    assert unguarded == []


def test_every_changing_admin_route_checks_csrf():
    changing = [r for r in ROUTES if r.method in {"POST", "PUT", "PATCH", "DELETE"}]
    assert changing
    assert [str(r) for r in changing if not r.csrf] == []


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def clients(request, tmp_path_factory) -> Iterator[dict[Role | None, TestClient]]:
    """One logged-in client per role, plus an anonymous one, on one database."""
    work: Path = tmp_path_factory.mktemp("admin-routes")
    urls: Iterator[str]
    if request.param == "sqlite":
        urls = iter([f"sqlite:///{work / 'var' / 'veiviser.db'}"])
    else:
        urls = _postgres_database(request.getfixturevalue("postgres_url"))
    url = next(urls)
    assistant = open_assistant(settings_for(url, write_kb(work)))
    app = create_app(assistant.settings, assistant)
    with TestClient(app) as anonymous:
        clients: dict[Role | None, TestClient] = {None: anonymous}
        for role in Role:
            client = TestClient(app)
            assert login(client, add_staff(assistant, role)).status_code == 303
            clients[role] = client
        yield clients
    assistant.close()
    for _ in urls:  # drops the PostgreSQL database
        pass


def _call(client: TestClient, route: AdminRoute, token: str | None):
    if route.method == "GET":
        return client.get(route.url, follow_redirects=False)
    return client.request(
        route.method,
        route.url,
        data={"csrf_token": token or ""},
        follow_redirects=False,
    )


@pytest.mark.parametrize("route", PROTECTED, ids=str)
def test_anonymous_browser_is_sent_to_login(clients, route):
    client = clients[None]
    token = page_csrf(client, "/admin/login")

    response = _call(client, route, token)

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/admin/login?next=/admin")


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("route", PROTECTED, ids=str)
def test_each_role_opens_exactly_its_routes(clients, route, role):
    client = clients[role]
    token = page_csrf(client, "/admin")

    response = _call(client, route, token)

    allowed = role is Role.ADMINISTRATOR or role in route.roles
    if allowed:
        assert response.status_code < 500, response.text[:500]
        assert response.status_code != 403, response.text[:500]
        assert "/admin/login" not in response.headers.get("location", "")
    else:
        assert response.status_code == 403
        assert "Rollen din gir ikke tilgang" in response.text
        assert response.headers["content-type"].startswith("text/html")


# Ids no database row can have (SQLite and PostgreSQL hold signed 64 bits),
# and words where the route expects a number.
HUGE_IDS = ["99999999999999999999999", str(2**63), str(-(2**63) - 1)]
UNKNOWN_IDS = [*HUGE_IDS, "abc", "12abc", "1.5"]
NUMERIC_ID_ROUTES = [
    route
    for route in PROTECTED
    if any(
        "{" + name + "}" in route.path and value.isdigit()
        for name, value in PATH_VALUES.items()
        if name.endswith("_id")
    )
]


@pytest.mark.parametrize("huge", UNKNOWN_IDS)
@pytest.mark.parametrize("route", NUMERIC_ID_ROUTES, ids=str)
def test_an_id_no_row_can_have_is_an_unknown_id(clients, route, huge):
    client = clients[Role.ADMINISTRATOR]
    token = page_csrf(client, "/admin")
    url = route.path
    for name, value in PATH_VALUES.items():
        url = url.replace("{" + name + "}", huge if value.isdigit() else value)

    response = _call(client, AdminRoute(route.method, url, route.roles, True), token)

    assert response.status_code == 404, response.text[:500]
    assert "Fant ikke det du lette etter" in response.text
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "url", ["/admin/users/abc", "/admin/users/1", "/admin/finnes-ikke"]
)
def test_an_admin_address_without_a_page_is_the_norwegian_not_found_page(clients, url):
    staff = clients[Role.ADMINISTRATOR].get(url, follow_redirects=False)
    anonymous = clients[None].get(url, follow_redirects=False)

    assert staff.status_code == 404
    assert staff.headers["content-type"].startswith("text/html")
    assert "Fant ikke det du lette etter" in staff.text
    assert anonymous.status_code in (404, 405)
    assert "Fant ikke det du lette etter" not in anonymous.text
