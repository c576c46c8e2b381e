"""The demo member portal in Debian's chromium: log in, ask, reload, log out.

A real ``veiviser serve`` runs in demo mode; the portal hands the widget a
signed token, and the widget asks the portal again when it needs one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from servers import CHROMIUM, chromium_args, veiviser_server
from test_members_support import QUESTIONS, personal_kb
from veiviser.content.yaml_io import write_knowledge_base

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(tmp_path_factory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("min-side")
    write_knowledge_base(personal_kb(), work / "kb.yaml")
    env = {"VEIVISER_DEMO_MODE": "true"}
    with veiviser_server(work, kb=work / "kb.yaml", env=env) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=chromium_args()
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="nb-NO")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == []


def open_chat(page) -> None:
    page.locator("veiviser-chat .launcher").click()
    page.locator("veiviser-chat .message.assistant").first.wait_for()


def ask(page, text: str) -> str:
    answers = page.locator("veiviser-chat .message.assistant")
    before = answers.count()
    page.locator("veiviser-chat .input").fill(text)
    page.keyboard.press("Enter")
    answers.nth(before).wait_for()
    return answers.last.inner_text()


def test_member_logs_in_asks_reloads_and_logs_out(page, app_url):
    page.goto(app_url + "/demo/min-side")
    page.get_by_role("link", name="Logg inn som Kari Demodatter").click()
    page.wait_for_url("**medlem=demo-kari")
    open_chat(page)
    notice = page.locator("veiviser-chat .login-notice")
    notice.wait_for()
    assert "Du er logget inn" in notice.inner_text()

    answer = ask(page, QUESTIONS["kurs"])
    assert "Grunnkurs for tillitsvalgte, del 1" in answer
    assert "på venteliste" in answer

    # The history shows the personal answer again, for the same login.
    page.reload()
    open_chat(page)
    page.locator("veiviser-chat .message.assistant").nth(1).wait_for()
    history = page.locator("veiviser-chat .message.assistant").nth(1).inner_text()
    assert "Grunnkurs for tillitsvalgte, del 1" in history

    # Logging out forgets the conversation; the next person is anonymous.
    page.locator(".log-out").click()
    page.wait_for_url("**/demo/min-side")
    open_chat(page)
    assert page.locator("veiviser-chat .message.member").count() == 0
    anonymous = ask(page, QUESTIONS["kurs"])
    assert "Grunnkurs for tillitsvalgte" not in anonymous
    assert "Logg inn på Min side" in anonymous


def test_widget_says_so_when_the_portal_cannot_give_a_token(page, app_url):
    page.goto(app_url + "/demo/min-side?medlem=demo-ola")
    open_chat(page)
    page.evaluate(
        "() => { const chat = document.querySelector('veiviser-chat');"
        " chat.memberTokenCache = null;"
        " chat.memberToken = () => Promise.reject(new Error('portal down')); }"
    )

    answer = ask(page, QUESTIONS["medlemsbevis"])

    assert "DEMO-10002" not in answer
    assert "mislyktes" in page.locator("veiviser-chat .login-notice").inner_text()


def test_widget_fetches_a_fresh_token_when_the_old_one_expires(page, app_url):
    page.goto(app_url + "/demo/min-side?medlem=demo-ola")
    open_chat(page)
    calls = page.evaluate(
        "async () => { const chat = document.querySelector('veiviser-chat');"
        " const portal = chat.memberToken; let calls = 0;"
        " chat.memberToken = async () => { calls += 1; return portal(); };"
        # A token whose exp has passed: the widget must not send it.
        " const stale = btoa(JSON.stringify({alg: 'HS256'})) + '.' +"
        "   btoa(JSON.stringify({exp: 1})) + '.x';"
        " chat.memberTokenCache = stale;"
        " await chat.currentMemberToken(); return calls; }"
    )
    answer = ask(page, QUESTIONS["medlemsbevis"])

    assert calls == 1
    assert "DEMO-10002" in answer
