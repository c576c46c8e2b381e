"""The admin studio in Debian's chromium: from first login to a changed answer.

A real ``veiviser serve`` process runs on a fresh database; the test follows
the one-time link it prints, creates the first administrator, adds a
training phrase in the intent editor, waits for the page to say the change
is live and then asks the chat page, which now answers with that intent.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import pytest

from servers import CHROMIUM, chromium_args, veiviser_server

pytestmark = pytest.mark.browser

KB = """\
organisation:
  name: Testforbundet
intents:
  - id: kontingent
    title: Kontingent
    phrases: [hva koster medlemskap, kontingent, pris på medlemskap,
      hvor mye koster det, hva er kontingenten, hva betaler jeg i måneden]
    answer: Kontingenten er **1,4 %** av lønna.
  - id: innmelding
    title: Bli medlem
    phrases: [hvordan blir jeg medlem, innmelding, melde meg inn, bli medlem,
      jeg vil bli medlem, skjema for innmelding]
    answer: Du melder deg inn på nettsidene våre.
decline_examples: [hva blir været, fortell en vits, asdfgh, hvem vant kampen,
  oppskrift på pannekaker, hvor er nærmeste bensinstasjon]
"""
NEW_PHRASE = "jeg vil ha trekk i lønna for fagforeningen"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(app url, the one-time setup link it printed)."""
    work = tmp_path_factory.mktemp("admin-browser")
    (work / "kb.yaml").write_text(KB, encoding="utf-8")
    with veiviser_server(work, kb=work / "kb.yaml") as app:
        link = _setup_link(app)
        yield app.url, link


def _setup_link(app) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = re.search(r"(http://\S+/admin/setup\?token=[\w-]+)", app.log())
        if found:
            return found.group(1)
        time.sleep(0.2)
    raise AssertionError(f"no setup link in the server log:\n{app.log()}")


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


def ask_chat(page, url: str, text: str) -> str:
    page.goto(url + "/")
    page.locator("#chat-input").fill(text)
    page.keyboard.press("Enter")
    # The greeting, the member's message and the reply.
    page.wait_for_function(
        "() => document.querySelectorAll('.chat-log li.assistant').length >= 2"
    )
    return page.locator(".chat-log li.assistant").last.inner_text()


def test_first_admin_adds_a_phrase_and_the_chat_answer_changes(browser, server):
    url, setup_link = server
    context = browser.new_context(
        locale="nb-NO", viewport={"width": 1024, "height": 768}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    before = ask_chat(page, url, NEW_PHRASE)
    assert "1,4 %" not in before

    # The one-time link creates the first administrator, who is logged in.
    page.goto(setup_link)
    page.get_by_label("Brukernavn").fill("sjefen")
    page.get_by_label("Passord", exact=True).fill("et-godt-passord")
    page.get_by_label("Gjenta passordet").fill("et-godt-passord")
    page.get_by_role("button", name="Opprett administrator").click()
    page.get_by_role("heading", name="Start").wait_for()

    # Find the intent by searching, open it, add the phrase by keyboard.
    page.get_by_role("link", name="Intensjoner").first.click()
    page.get_by_label("Søk").fill("kontingent")
    page.locator("#intent-rows").get_by_role("link", name="Kontingent").click()
    page.get_by_label("Nye fraser").fill(NEW_PHRASE)
    page.get_by_role("button", name="Legg til fraser").click()
    page.get_by_text("Endringen er i bruk i chatten nå").wait_for(timeout=60_000)
    assert page.get_by_text(NEW_PHRASE).count() >= 1

    after = ask_chat(page, url, NEW_PHRASE)
    assert "1,4 %" in after
    context.close()
    assert errors == []

    # The link was for one use only.
    stranger = browser.new_context(locale="nb-NO")
    again = stranger.new_page()
    assert again.goto(setup_link).status == 404
    assert "Lenken er ukjent" in again.content()
    stranger.close()
