"""The embeddable widget in Debian's chromium, driven by Playwright.

A real ``veiviser serve`` process answers; the widget is embedded with one
script tag on a page served from another local origin, as on a union's site.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import CHROMIUM, chromium_args, static_site, veiviser_server

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

KB = """\
organisation:
  name: Testforbundet
  assistant_name: Veiviser
groups:
  - id: medlemskap
    title: Medlemskap
intents:
  - id: kontingent
    title: Hva koster medlemskap
    group: medlemskap
    phrases: [hva koster medlemskap, kontingent, pris på medlemskap,
      hvor mye koster det, hva er kontingenten, hvor dyrt er det å være medlem,
      hva betaler jeg i måneden]
    answer: |
      Kontingenten er **1,4 %** av lønna.

      - Studenter betaler ingenting
      - [Les mer](https://forbundet.example/kontingent)
    buttons:
      - intent: innmelding
        label: Hvordan blir jeg medlem?
  - id: innmelding
    title: Bli medlem
    group: medlemskap
    phrases: [hvordan blir jeg medlem, innmelding, melde meg inn, bli medlem,
      jeg vil bli medlem, hvor melder jeg meg inn, skjema for innmelding]
    answer: |
      Du melder deg inn på nettsidene våre. Det tar to minutter.
  - id: farlig
    title: Et svar med forsøk på skript
    group: medlemskap
    phrases: [vis meg det farlige svaret, farlig svar, test av skript,
      svaret med skript, vis skriptsvaret, det farlige, skriptprøve]
    answer: |
      Hei <script>window.__pwned = 'answer-script'</script>
      <img src=x onerror="window.__pwned = 'answer-img'">
      [klikk](javascript:window.__pwned='answer-link')
      <iframe src="https://forbundet.example"></iframe>
decline_examples: [hva blir været, fortell en vits, asdfgh, hvem vant kampen,
  oppskrift på pannekaker, hvor er nærmeste bensinstasjon]
"""


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(app url, host page url) on two different local origins."""
    work = tmp_path_factory.mktemp("widget")
    (work / "kb.yaml").write_text(KB, encoding="utf-8")
    host = work / "site"
    host.mkdir()
    with static_site(host) as host_url:
        env = {"VEIVISER_ALLOWED_ORIGINS": host_url}
        with veiviser_server(work, kb=work / "kb.yaml", env=env) as app:
            # The host page tries hard to restyle everything; the widget's
            # shadow root must keep its own look.
            (host / "index.html").write_text(
                "<!doctype html><html lang='nb'><head><meta charset='utf-8'>"
                "<meta name='viewport' content='width=device-width, initial-scale=1'>"
                "<title>Forbundets side</title>"
                "<style>* { color: #ff00ff !important; font-size: 40px !important; }"
                " button { display: none !important; }</style></head>"
                "<body><main><h1>Velkommen til forbundet</h1></main>"
                f"<script src='{app.url}/widget.js' defer></script>"
                "</body></html>",
                encoding="utf-8",
            )
            yield app.url, host_url + "/index.html"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=chromium_args()
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def open_by_keyboard(page, host_url: str) -> None:
    page.goto(host_url)
    launcher = page.locator("veiviser-chat .launcher")
    launcher.wait_for()
    page.keyboard.press("Tab")  # the page has no other focusable element
    assert launcher.evaluate("el => el.getRootNode().activeElement === el")
    page.keyboard.press("Enter")
    page.locator("veiviser-chat .panel").wait_for(state="visible")
    # The greeting arrives when the conversation opens.
    page.locator("veiviser-chat .message.assistant").first.wait_for()


def ask(page, text: str) -> None:
    before = page.locator("veiviser-chat .message.assistant").count()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.locator("veiviser-chat .message.assistant").nth(before).wait_for()


def focused_class(page) -> str:
    return page.evaluate(
        "() => { const c = document.querySelector('veiviser-chat');"
        " const a = c.shadowRoot.activeElement; return a ? a.className : ''; }"
    )


def test_keyboard_only_question_answer_follow_up_and_reload(page, sites):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    assert focused_class(page) == "input"

    ask(page, "hva koster medlemskap")
    answer = page.locator("veiviser-chat .message.assistant").last
    assert "1,4 %" in answer.inner_text()
    assert answer.locator("strong").inner_text() == "1,4 %"
    assert focused_class(page) == "input"  # focus stays for the next question

    # Tab from the input wraps to the first focusable element inside the
    # panel, never out to the host page.
    for _ in range(30):
        page.keyboard.press("Tab")
        inside = page.evaluate(
            "() => document.activeElement === document.querySelector('veiviser-chat')"
        )
        assert inside

    follow_up = answer.get_by_role("button", name="Hvordan blir jeg medlem?")
    follow_up.focus()
    page.keyboard.press("Enter")
    page.locator("veiviser-chat .message.assistant").nth(2).wait_for()
    assert (
        "Du melder deg inn"
        in page.locator("veiviser-chat .message.assistant").last.inner_text()
    )

    count = page.locator("veiviser-chat .message").count()
    page.reload()
    page.locator("veiviser-chat .launcher").click()
    page.locator("veiviser-chat .message.assistant").nth(2).wait_for()
    assert page.locator("veiviser-chat .message").count() == count
    texts = page.locator("veiviser-chat .message.member").all_inner_texts()
    assert [re.sub(r"^Du:\s*", "", t) for t in texts] == [
        "hva koster medlemskap",
        "Hvordan blir jeg medlem?",
    ]

    page.keyboard.press("Escape")
    assert page.locator("veiviser-chat .panel").is_hidden()
    assert focused_class(page).startswith("launcher")


def test_phone_sized_viewport(browser, sites):
    _, host_url = sites
    context = browser.new_context(
        viewport={"width": 320, "height": 640}, locale="nb-NO"
    )
    page = context.new_page()
    try:
        open_by_keyboard(page, host_url)
        ask(page, "kontingent")
        panel = page.locator("veiviser-chat .panel").bounding_box()
        assert panel["width"] <= 320 and panel["x"] >= 0
        # Nothing inside the panel is wider than the screen.
        widest = page.evaluate(
            "() => Math.max(...[...document.querySelector('veiviser-chat')"
            ".shadowRoot.querySelectorAll('.panel *')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= 320
        assert (
            "1,4 %"
            in page.locator("veiviser-chat .message.assistant").last.inner_text()
        )
    finally:
        context.close()


def test_host_page_styles_do_not_reach_the_widget(page, sites):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    colour = page.locator("veiviser-chat .send").evaluate(
        "el => getComputedStyle(el).color"
    )
    visible = page.locator("veiviser-chat .send").is_visible()
    assert colour == "rgb(255, 255, 255)"
    assert visible


def test_member_script_injection_is_shown_as_text(page, sites):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    attack = (
        "<img src=x onerror=\"window.__pwned='member'\">"
        "<script>window.__pwned='member-script'</script>"
    )
    ask(page, attack)
    member = page.locator("veiviser-chat .message.member").last
    assert "<img src=x" in member.inner_text()
    assert member.locator("img").count() == 0
    assert page.evaluate("() => window.__pwned") is None


def test_script_stored_in_an_answer_does_not_run(page, sites):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    ask(page, "vis meg det farlige svaret")
    answer = page.locator("veiviser-chat .message.assistant").last
    assert answer.locator("script, iframe, img").count() == 0
    links = answer.locator("a").evaluate_all(
        "els => els.map(e => e.getAttribute('href'))"
    )
    assert all(
        href is None or not href.lower().startswith("javascript") for href in links
    )
    for link in answer.locator("a").all():
        link.click(no_wait_after=True)
    assert page.evaluate("() => window.__pwned") is None


def test_axe_finds_no_serious_violations_in_the_open_widget(page, sites):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    ask(page, "hva koster medlemskap")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => { const r = await axe.run(document.querySelector('veiviser-chat'),"
        " { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa', 'best-practice'] });"
        " return { passes: r.passes.length, violations: r.violations.map(v =>"
        " ({ id: v.id, impact: v.impact, nodes: v.nodes.length })) }; }"
    )
    serious = [
        v for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert result["passes"] > 0  # axe really looked at the widget
    assert serious == [], json.dumps(serious)


def reload_and_open(page) -> None:
    page.reload()
    page.locator("veiviser-chat .launcher").click()


def test_message_typed_offline_is_sent_once_when_back_online(page, sites):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    page.context.set_offline(True)
    page.keyboard.type("hva koster medlemskap")
    page.keyboard.press("Enter")
    page.locator("veiviser-chat .message.member.pending .error").wait_for()
    # Back online, the widget sends the kept message by itself.
    page.context.set_offline(False)
    page.locator("veiviser-chat .message.assistant").nth(1).wait_for()
    reload_and_open(page)
    page.locator("veiviser-chat .message.assistant").nth(1).wait_for()
    assert page.locator("veiviser-chat .message.member").count() == 1
    assert page.locator("veiviser-chat .message.assistant").count() == 2


def test_reply_lost_on_the_way_back_is_not_answered_twice(page, sites):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    lost: list[str] = []

    def lose_first_reply(route):
        # The server gets and answers the message, but the answer never
        # reaches the browser: the connection dropped on the way back.
        if not lost:
            route.fetch()
            lost.append(route.request.post_data or "")
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/conversations/*/messages", lose_first_reply)
    page.keyboard.type("kontingent")
    page.keyboard.press("Enter")
    retry = page.locator("veiviser-chat .message.member.pending").get_by_role("button")
    retry.click()
    page.locator("veiviser-chat .message.assistant").nth(1).wait_for()
    assert len(lost) == 1
    reload_and_open(page)
    page.locator("veiviser-chat .message.assistant").nth(1).wait_for()
    # One member message and one reply stored, not two of each.
    assert page.locator("veiviser-chat .message.member").count() == 1
    assert page.locator("veiviser-chat .message.assistant").count() == 2


def test_member_can_delete_the_conversation(page, sites):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    ask(page, "kontingent")
    page.locator("veiviser-chat .privacy-open").click()
    privacy = page.locator("veiviser-chat .privacy")
    assert "anonyme" in privacy.inner_text()
    page.locator("veiviser-chat .erase").click()
    page.locator("veiviser-chat .message.member").first.wait_for(state="detached")
    page.locator("veiviser-chat .message.assistant").first.wait_for()
    assert page.locator("veiviser-chat .message.member").count() == 0
