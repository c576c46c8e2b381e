"""Staff accounts, logins, sessions, CSRF and the first administrator."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from test_admin_support import (
    PASSWORD,
    add_staff,
    csrf_from,
    logged_in_client,
    login,
    page_csrf,
    post_form,
)
from test_store_support import open_assistant
from veiviser.service import staff
from veiviser.service.staff import Role
from veiviser.store.models import utc_now
from veiviser.store.models_admin import LoginAttempt, StaffAccount, StaffSession
from veiviser.web import create_app
from veiviser.web.admin.auth import SESSION_COOKIE

pytest_plugins = ["test_store_support", "test_admin_support"]


@pytest.fixture
def client(assistant):
    with TestClient(create_app(assistant.settings, assistant)) as test_client:
        yield test_client


# --- Accounts ---------------------------------------------------------------


def test_password_is_stored_as_argon2_hash(assistant):
    add_staff(assistant, Role.EDITOR, "kari")

    with assistant.sessions() as session:
        stored = session.scalar(select(StaffAccount.password_hash))

    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("username", "password", "role", "reason"),
    [
        ("", PASSWORD, "editor", "username_format"),
        ("a" * 65, PASSWORD, "editor", "username_format"),
        ("<script>", PASSWORD, "editor", "username_format"),
        ("kari'; DROP TABLE staff_user;--", PASSWORD, "editor", "username_format"),
        ("kåre", PASSWORD, "editor", "username_format"),
        ("kari", "kort", "editor", "password_short"),
        ("kari", "x" * 201, "editor", "password_long"),
        ("kari", PASSWORD, "sjef", "role_unknown"),
    ],
)
def test_unusable_account_details_are_refused_by_name(
    assistant, username, password, role, reason
):
    with pytest.raises(staff.AccountInvalid) as refused:
        staff.create_account(assistant.sessions, username, password, role)

    assert refused.value.reason == reason


def test_usernames_are_case_insensitive_and_unique(assistant):
    add_staff(assistant, Role.EDITOR, "Kari")

    with pytest.raises(staff.UsernameTaken):
        staff.create_account(assistant.sessions, "KARI", PASSWORD, Role.ANALYST)


def test_last_administrator_cannot_be_demoted_or_deactivated(assistant):
    only = staff.create_account(assistant.sessions, "sjef", PASSWORD, "administrator")

    with pytest.raises(staff.LastAdministrator):
        staff.update_account(assistant.sessions, only.id, Role.EDITOR, True)
    with pytest.raises(staff.LastAdministrator):
        staff.update_account(assistant.sessions, only.id, Role.ADMINISTRATOR, False)

    second = staff.create_account(
        assistant.sessions, "nestsjef", PASSWORD, "administrator"
    )
    staff.update_account(assistant.sessions, only.id, Role.EDITOR, True)
    assert staff.get_account(assistant.sessions, only.id).role is Role.EDITOR
    assert staff.get_account(assistant.sessions, second.id).role is Role.ADMINISTRATOR


# --- Logging in ---------------------------------------------------------------


def test_login_sets_a_hardened_session_cookie_and_lands_on_next(client, assistant):
    add_staff(assistant, Role.EDITOR, "kari")
    token = page_csrf(client)

    response = client.post(
        "/admin/login",
        data={
            "username": "kari",
            "password": PASSWORD,
            "next": "/admin/users",
            "csrf_token": token,
        },
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users"
    cookie = next(
        h
        for h in response.headers.get_list("set-cookie")
        if h.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in the test
    with assistant.sessions() as session:
        stored = session.scalar(select(StaffSession.id_hash))
    assert stored not in cookie  # only the hash is kept


def test_cookie_is_secure_behind_https(assistant):
    add_staff(assistant, Role.EDITOR, "kari")
    app = create_app(assistant.settings, assistant)
    client = TestClient(app, base_url="https://admin.example")

    response = login(client, "kari")

    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie


@pytest.mark.parametrize(
    "next_path", ["https://evil.example/", "//evil.example", "/admin\\@evil", "/api"]
)
def test_login_never_redirects_off_the_admin_pages(client, assistant, next_path):
    add_staff(assistant, Role.EDITOR, "kari")
    token = page_csrf(client)

    response = client.post(
        "/admin/login",
        data={"username": "kari", "password": PASSWORD, "next": next_path,
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip

    assert response.status_code == 303
    assert response.headers["location"] == "/admin"


@pytest.mark.parametrize(
    "username",
    ["", "x" * 100_00, "<img src=x onerror=alert(1)>", "' OR 1=1 --", "用户", "\x00"],
)
def test_wrong_or_hostile_login_gets_a_norwegian_form_error(client, username):
    token = page_csrf(client)

    response = client.post(
        "/admin/login",
        data={"username": username, "password": "feil", "csrf_token": token},
    )

    assert response.status_code == 401
    assert "Feil brukernavn eller passord." in response.text
    assert "<img src=x" not in response.text


def test_login_throttling_is_shared_by_processes_through_the_database(
    assistant, tmp_path
):
    add_staff(assistant, Role.EDITOR, "kari")
    other_process = open_assistant(assistant.settings)
    throttle = staff.Throttle(max_failures=3, window=timedelta(minutes=15))
    try:
        for sessions in (
            assistant.sessions,
            other_process.sessions,
            assistant.sessions,
        ):
            with pytest.raises(staff.LoginFailed):
                staff.authenticate(sessions, "kari", "feil", "10.0.0.1", throttle)

        # From that address the right password no longer helps, in either
        # process.
        for sessions in (assistant.sessions, other_process.sessions):
            with pytest.raises(staff.LoginThrottled) as throttled:
                staff.authenticate(sessions, "kari", PASSWORD, "10.0.0.1", throttle)
            assert 1 <= throttled.value.minutes <= 16
    finally:
        other_process.close()


def test_login_lockout_by_a_stranger_does_not_lock_the_owner_out(assistant):
    add_staff(assistant, Role.EDITOR, "kari")
    throttle = staff.Throttle(max_failures=3, window=timedelta(minutes=15))
    for _ in range(3):
        with pytest.raises(staff.LoginFailed):
            staff.authenticate(assistant.sessions, "kari", "feil", "10.6.6.6", throttle)

    user = staff.authenticate(
        assistant.sessions, "kari", PASSWORD, "10.0.0.1", throttle
    )

    assert user.username == "kari"
    with pytest.raises(staff.LoginThrottled):
        staff.authenticate(assistant.sessions, "kari", PASSWORD, "10.6.6.6", throttle)


def test_login_owner_success_keeps_a_strangers_failures_counted(assistant):
    add_staff(assistant, Role.EDITOR, "kari")
    throttle = staff.Throttle(max_failures=3, window=timedelta(minutes=15))
    for _ in range(2):
        with pytest.raises(staff.LoginFailed):
            staff.authenticate(assistant.sessions, "kari", "feil", "10.6.6.6", throttle)

    staff.authenticate(assistant.sessions, "kari", PASSWORD, "10.0.0.1", throttle)

    with assistant.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 2


def test_login_many_addresses_failing_one_account_reach_its_ceiling(assistant):
    add_staff(assistant, Role.EDITOR, "kari")
    throttle = staff.Throttle(max_failures=2, window=timedelta(minutes=15))
    addresses = [f"10.1.0.{number}" for number in range(20)]
    for address in addresses:
        for _ in range(2):
            with pytest.raises(staff.LoginFailed):
                staff.authenticate(
                    assistant.sessions, "kari", "feil", address, throttle
                )

    assert throttle.max_account_failures == 40
    with pytest.raises(staff.LoginThrottled):
        staff.authenticate(assistant.sessions, "kari", PASSWORD, "10.2.0.1", throttle)
    # Another account is untouched by the ceiling.
    add_staff(assistant, Role.EDITOR, "ola")
    assert (
        staff.authenticate(
            assistant.sessions, "ola", PASSWORD, "10.2.0.1", throttle
        ).username
        == "ola"
    )


def test_throttled_login_opens_again_after_the_window(assistant):
    add_staff(assistant, Role.EDITOR, "kari")
    throttle = staff.Throttle(max_failures=2, window=timedelta(minutes=15))
    then = utc_now() - timedelta(minutes=20)
    for _ in range(2):
        with pytest.raises(staff.LoginFailed):
            staff.authenticate(assistant.sessions, "kari", "feil", "ip", throttle, then)

    user = staff.authenticate(assistant.sessions, "kari", PASSWORD, "ip", throttle)

    assert user.username == "kari"
    with assistant.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0


def test_one_address_trying_many_accounts_is_throttled(assistant):
    throttle = staff.Throttle(max_failures=2, window=timedelta(minutes=15))
    for number in range(8):
        with pytest.raises(staff.LoginFailed):
            staff.authenticate(
                assistant.sessions, f"bruker{number}", "feil", "10.9.9.9", throttle
            )

    with pytest.raises(staff.LoginThrottled):
        staff.authenticate(
            assistant.sessions, "ny-bruker", "feil", "10.9.9.9", throttle
        )


def test_login_page_says_when_throttled(client, assistant):
    add_staff(assistant, Role.EDITOR, "kari")
    limit = assistant.settings.login_max_failures
    for _ in range(limit):
        assert login(client, "kari", "feil-passord").status_code == 401

    response = login(client, "kari")

    assert response.status_code == 429
    assert "For mange mislykkede forsøk" in response.text


def test_login_page_counts_failures_per_forwarded_client_address(assistant):
    # Behind a trusted proxy, the address is the one the rate limit uses.
    settings = replace(assistant.settings, trusted_proxies=("127.0.0.1/32",))
    app = create_app(settings, assistant)
    add_staff(assistant, Role.EDITOR, "kari")
    stranger = TestClient(app, client=("127.0.0.1", 40000))
    stranger.headers["X-Forwarded-For"] = "203.0.113.66"
    owner = TestClient(app, client=("127.0.0.1", 40001))
    owner.headers["X-Forwarded-For"] = "198.51.100.7"
    for _ in range(settings.login_max_failures):
        assert login(stranger, "kari", "feil-passord").status_code == 401

    assert login(stranger, "kari").status_code == 429
    assert login(owner, "kari").status_code == 303


def test_deactivated_account_cannot_log_in(client, assistant):
    add_staff(assistant, Role.EDITOR, "kari")
    account = staff.list_accounts(assistant.sessions)[0]
    staff.update_account(assistant.sessions, account.id, Role.EDITOR, False)

    assert login(client, "kari").status_code == 401


# --- Sessions ---------------------------------------------------------------


def test_logout_ends_the_session_on_the_server(assistant):
    client = logged_in_client(assistant, Role.EDITOR)
    cookie = client.cookies[SESSION_COOKIE]

    response = post_form(client, "/admin/logout")

    assert response.status_code == 303
    replay = TestClient(create_app(assistant.settings, assistant))
    replay.cookies.set(SESSION_COOKIE, cookie)
    assert replay.get("/admin", follow_redirects=False).status_code == 303


def test_expired_session_is_not_accepted(assistant):
    user = staff.create_account(assistant.sessions, "kari", PASSWORD, Role.EDITOR)
    opened = staff.open_session(assistant.sessions, user, timedelta(seconds=-1))

    assert staff.session_for(assistant.sessions, opened.cookie) is None


def test_administrator_resets_a_password_and_ends_that_users_sessions(
    admin_client, assistant
):
    editor = logged_in_client(assistant, Role.EDITOR)
    account = next(
        a for a in staff.list_accounts(assistant.sessions) if a.role is Role.EDITOR
    )

    response = post_form(
        admin_client,
        f"/admin/users/{account.id}/password",
        {"password": "et-helt-nytt-passord"},
    )

    assert response.status_code == 303
    assert editor.get("/admin", follow_redirects=False).status_code == 303
    assert login(TestClient(editor.app), account.username).status_code == 401
    relogin = login(TestClient(editor.app), account.username, "et-helt-nytt-passord")
    assert relogin.status_code == 303


def test_administrator_adds_a_user_through_the_form(admin_client, assistant):
    response = post_form(
        admin_client,
        "/admin/users",
        {"username": "Ola", "password": "langt-nok-passord", "role": "analyst"},
    )

    assert response.status_code == 303
    page = admin_client.get(response.headers["location"])
    assert "Brukeren ola er opprettet." in page.text
    assert (
        login(TestClient(admin_client.app), "ola", "langt-nok-passord").status_code
        == 303
    )


def test_user_form_errors_are_norwegian_and_escaped(admin_client):
    response = post_form(
        admin_client,
        "/admin/users",
        {"username": "<b>x</b>", "password": "kort", "role": "editor"},
    )

    assert response.status_code == 422
    assert "Brukernavnet må ha 2–64 tegn" in response.text
    assert "<b>x</b>" not in response.text
    assert "&lt;b&gt;x&lt;/b&gt;" in response.text


# --- CSRF ---------------------------------------------------------------------


def test_form_without_csrf_token_is_rejected(admin_client):
    response = admin_client.post(
        "/admin/users",
        data={"username": "ola", "password": "langt-nok-passord", "role": "editor"},
        follow_redirects=False,
    )

    assert response.status_code == 403
    assert "Skjemaet var utløpt" in response.text


def test_form_with_another_sessions_token_is_rejected(admin_client, assistant):
    other = logged_in_client(assistant, Role.EDITOR)
    foreign_token = page_csrf(other, "/admin")

    response = admin_client.post(
        "/admin/users",
        data={"username": "ola", "password": "langt-nok-passord", "role": "editor",
              "csrf_token": foreign_token},
        follow_redirects=False,
    )  # fmt: skip

    assert response.status_code == 403
    assert "ola" not in [a.username for a in staff.list_accounts(assistant.sessions)]


def test_request_from_another_origin_is_rejected_even_with_token(admin_client):
    token = page_csrf(admin_client, "/admin")

    response = admin_client.post(
        "/admin/users",
        data={"username": "ola", "password": "langt-nok-passord", "role": "editor"},
        headers={"X-CSRF-Token": token, "Origin": "https://evil.example"},
        follow_redirects=False,
    )

    assert response.status_code == 403


def test_csrf_token_in_header_is_accepted(admin_client, assistant):
    token = page_csrf(admin_client, "/admin")

    response = admin_client.post(
        "/admin/users",
        data={"username": "ola", "password": "langt-nok-passord", "role": "editor"},
        headers={"X-CSRF-Token": token, "Origin": "http://testserver"},
        follow_redirects=False,
    )

    assert response.status_code == 303


def test_login_form_needs_its_csrf_cookie(client, assistant):
    add_staff(assistant, Role.EDITOR, "kari")

    response = client.post(
        "/admin/login",
        data={"username": "kari", "password": PASSWORD, "csrf_token": "gjettet"},
        follow_redirects=False,
    )

    assert response.status_code == 403


# --- The first administrator ----------------------------------------------------


def test_setup_link_creates_the_first_administrator_once(client, assistant):
    token = staff.create_setup_token(assistant.sessions)
    page = client.get(f"/admin/setup?token={token}")
    assert page.status_code == 200
    form = {
        "token": token,
        "username": "sjef",
        "password": "et-godt-passord",
        "password_again": "et-godt-passord",
        "csrf_token": csrf_from(page.text),
    }

    created = client.post("/admin/setup", data=form, follow_redirects=False)

    assert created.status_code == 303
    assert client.get("/admin/users").status_code == 200
    again = TestClient(client.app)
    assert again.get(f"/admin/setup?token={token}").status_code == 404
    assert staff.create_setup_token(assistant.sessions) is None


def test_setup_link_refuses_mismatched_passwords(client, assistant):
    token = staff.create_setup_token(assistant.sessions)
    page = client.get(f"/admin/setup?token={token}")

    response = client.post(
        "/admin/setup",
        data={"token": token, "username": "sjef", "password": "et-godt-passord",
              "password_again": "et-annet-passord", "csrf_token": csrf_from(page.text)},
    )  # fmt: skip

    assert response.status_code == 422
    assert "De to passordene er ikke like." in response.text
    assert not staff.has_administrator(assistant.sessions)


@pytest.mark.parametrize("token", ["", "gjettet", "x" * 5000])
def test_unknown_setup_link_is_a_norwegian_404(client, token):
    response = client.get("/admin/setup", params={"token": token})

    assert response.status_code == 404
    assert "Lenken er ukjent" in response.text
