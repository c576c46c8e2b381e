"""Pages with a strict Content-Security-Policy, in Debian's chromium.

The widget must keep its own look on a host page whose policy forbids inline
style (the demo member portal is one), and the plain chat page must show the
editors' service notice while it is running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from servers import CHROMIUM, chromium_args, static_site, veiviser_server
from test_members_support import personal_kb
from veiviser.content.yaml_io import write_knowledge_base
from veiviser.service.editing import set_notice
from veiviser.store.engine import create_engine_for
from veiviser.store.models import utc_now

pytestmark = pytest.mark.browser

HOSTILE_NOTICE = "Streik <img src=x onerror=\"window.__pwned='notice'\"> <b>nå</b>"


class Sites:
    """The running app, the strict host page and the app's database."""

    def __init__(self, app_url: str, host_url: str, database: Path) -> None:
        self.app_url = app_url
        self.host_url = host_url
        self.engine = create_engine_for(f"sqlite:///{database}")
        self.sessions = sessionmaker(self.engine)


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Iterator[Sites]:
    work = tmp_path_factory.mktemp("strict-csp")
    write_knowledge_base(personal_kb(), work / "kb.yaml")
    host = work / "site"
    host.mkdir()
    # The port is known only once the app runs, so the policy is set then.
    headers: dict[str, str] = {}
    with static_site(host, headers=headers) as host_url:
        env = {"VEIVISER_ALLOWED_ORIGINS": host_url, "VEIVISER_DEMO_MODE": "true"}
        with veiviser_server(work, kb=work / "kb.yaml", env=env) as app:
            headers["Content-Security-Policy"] = (
                f"default-src 'self'; style-src 'self'; script-src {app.url}; "
                f"connect-src {app.url}"
            )
            (host / "index.html").write_text(
                "<!doctype html><html lang='nb'><head><meta charset='utf-8'>"
                "<title>Forbundets side</title></head>"
                "<body><main><h1>Velkommen til forbundet</h1></main>"
                f"<script src='{app.url}/widget.js' defer></script>"
                "</body></html>",
                encoding="utf-8",
            )
            running = Sites(app.url, host_url + "/index.html", work / "veiviser.db")
            try:
                yield running
            finally:
                running.engine.dispose()


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


def computed(page, selector: str, prop: str) -> str:
    """A computed style of an element inside the widget's shadow root."""
    return page.evaluate(
        "([selector, prop]) => getComputedStyle(document.querySelector("
        "'veiviser-chat').shadowRoot.querySelector(selector))[prop]",
        [selector, prop],
    )


def inline_style_is_blocked(page) -> bool:
    """Whether the page's policy really blocks a <style> in a shadow root."""
    return page.evaluate(
        "() => { const host = document.createElement('div');"
        " document.body.append(host);"
        " const root = host.attachShadow({ mode: 'open' });"
        " const style = document.createElement('style');"
        " style.textContent = 'p { position: fixed; }';"
        " const p = document.createElement('p'); root.append(style, p);"
        " const blocked = getComputedStyle(p).position !== 'fixed';"
        " host.remove(); return blocked; }"
    )


def assert_widget_keeps_its_style(page) -> None:
    launcher = page.locator("veiviser-chat .launcher")
    launcher.wait_for()
    assert computed(page, ".launcher", "position") == "fixed"
    launcher.click()
    page.locator("veiviser-chat .panel").wait_for(state="visible")
    page.locator("veiviser-chat .message.assistant").first.wait_for()
    assert computed(page, ".panel", "position") == "fixed"
    assert computed(page, ".panel", "borderTopLeftRadius") not in ("", "0px")


def test_widget_is_styled_on_a_host_page_that_forbids_inline_style(page, sites):
    page.goto(sites.host_url)
    assert inline_style_is_blocked(page)  # the policy is in force

    assert_widget_keeps_its_style(page)


def test_widget_is_styled_on_the_demo_member_portal(page, sites):
    page.goto(sites.app_url + "/demo/min-side")
    assert inline_style_is_blocked(page)

    assert_widget_keeps_its_style(page)


def test_chat_page_shows_the_notice_only_while_it_runs(page, sites):
    notice = page.locator("#veiviser-chat .chat-notice")
    later = utc_now() + timedelta(days=1)
    set_notice(sites.sessions, "Julestengt", later, later + timedelta(days=1), "t")
    try:
        page.goto(sites.app_url + "/")
        page.locator("#veiviser-chat .chat-log li").first.wait_for()
        assert notice.is_hidden()

        set_notice(sites.sessions, HOSTILE_NOTICE, None, None, "t")
        page.reload()
        notice.wait_for()

        assert notice.inner_text() == " ".join(HOSTILE_NOTICE.split())
        assert notice.get_attribute("role") == "status"
        assert notice.locator("img, b").count() == 0
        assert page.evaluate("() => window.__pwned") is None
        # Above the conversation.
        assert notice.evaluate(
            "n => !!(n.compareDocumentPosition(document.querySelector('.chat-log'))"
            " & Node.DOCUMENT_POSITION_FOLLOWING)"
        )
    finally:
        set_notice(sites.sessions, "", None, None, "t")
