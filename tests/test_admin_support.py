"""Helpers for admin-page tests: staff accounts, logging in, CSRF tokens.

Every feature's admin tests can use these (``from test_admin_support import ...``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from veiviser.service import Assistant, staff
from veiviser.service.staff import Role
from veiviser.web import create_app

PASSWORD = "riktig-hest-batteri-stift"
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def username_for(role: Role) -> str:
    return f"{role.value}-bruker"


def add_staff(assistant: Assistant, role: Role, username: str | None = None) -> str:
    """Create an account with ``role`` and the test password; returns its name."""
    name = username or username_for(role)
    staff.create_account(assistant.sessions, name, PASSWORD, role)
    return name


def csrf_from(html: str) -> str:
    """The CSRF token a rendered admin page carries in its meta tag."""
    found = _CSRF.search(html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def page_csrf(client: TestClient, path: str = "/admin/login") -> str:
    """Open ``path`` and return the CSRF token its forms send back."""
    response = client.get(path, follow_redirects=True)
    return csrf_from(response.text)


def login(client: TestClient, username: str, password: str = PASSWORD):
    """Log in through the form, as a browser does; returns the response."""
    token = page_csrf(client, "/admin/login")
    return client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def logged_in_client(assistant: Assistant, role: Role) -> TestClient:
    """A client (without its own lifespan) logged in with a new ``role`` account."""
    client = TestClient(create_app(assistant.settings, assistant))
    name = add_staff(assistant, role)
    response = login(client, name)
    assert response.status_code == 303, response.text
    return client


def post_form(client: TestClient, path: str, data: dict | None = None, **kwargs):
    """POST a form with the CSRF token of the logged-in session."""
    token = page_csrf(client, "/admin")
    return client.post(
        path,
        data={**(data or {}), "csrf_token": token},
        follow_redirects=False,
        **kwargs,
    )


@pytest.fixture
def admin_client(assistant: Assistant) -> Iterator[TestClient]:
    """A client logged in as an administrator, with the app's lifespan running."""
    app = create_app(assistant.settings, assistant)
    with TestClient(app) as client:
        name = add_staff(assistant, Role.ADMINISTRATOR, "sjefen")
        assert login(client, name).status_code == 303
        yield client
    # A background training must not outlive the test's database.
    trainer = getattr(app.state, "live_trainer", None)
    if trainer is not None:
        trainer.stop(timeout=120)
    worker = getattr(app.state, "health_worker", None)
    if worker is not None:
        worker.stop(timeout=120)
