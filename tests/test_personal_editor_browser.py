"""The personal answer field of the intent editor, in Debian's chromium.

A real ``veiviser serve`` (not in demo mode, with an empty member directory)
runs on a fresh database. The editor types a template, sees the live
preview for a fictional demo member, switches member, is told about an
unknown placeholder, fixes it and saves; the server's log holds none of the
demo members' values.
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
  - id: kurs
    title: Kurs
    phrases: [hvilke kurs er jeg påmeldt, kurs, kursene mine, mine kurs,
      kurs for medlemmer, når er kurset]
    answer: Se kurskalenderen på nettsidene våre.
  - id: innmelding
    title: Bli medlem
    phrases: [hvordan blir jeg medlem, innmelding, melde meg inn, bli medlem,
      jeg vil bli medlem, skjema for innmelding]
    answer: Du melder deg inn på nettsidene våre.
decline_examples: [hva blir været, fortell en vits, asdfgh, hvem vant kampen,
  oppskrift på pannekaker, hvor er nærmeste bensinstasjon]
"""
DEMO_VALUES = ["Demodatter", "Prøvesen", "DEMO-10001", "DEMO-10002", "Tillitsvik"]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[str, str, object]]:
    """(app url, the one-time setup link, the running server)."""
    work = tmp_path_factory.mktemp("personal-editor-browser")
    (work / "kb.yaml").write_text(KB, encoding="utf-8")
    with veiviser_server(work, kb=work / "kb.yaml") as app:
        yield app.url, _setup_link(app), app


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


def test_editor_writes_previews_and_saves_a_personal_template(browser, server):
    url, setup_link, app = server
    context = browser.new_context(
        locale="nb-NO", viewport={"width": 1024, "height": 900}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(setup_link)
    page.get_by_label("Brukernavn").fill("sjefen")
    page.get_by_label("Passord", exact=True).fill("et-godt-passord")
    page.get_by_label("Gjenta passordet").fill("et-godt-passord")
    page.get_by_role("button", name="Opprett administrator").click()
    page.get_by_role("heading", name="Start").wait_for()
    page.goto(url + "/admin/intents/kurs")

    field = page.get_by_label("Personlig svar for innloggede medlemmer")
    field.fill("Hei {fornavn}! Medlemsnummer {medlemsnummer}.")
    preview = page.locator("#preview")
    save = page.locator("form:has(#personal_answer)").get_by_role(
        "button", name="Lagre"
    )
    preview.get_by_text("Hei Kari! Medlemsnummer DEMO-10001.").wait_for()

    page.get_by_label("Forhåndsvis det personlige svaret som").select_option(
        label="Ola Prøvesen"
    )
    preview.get_by_text("Hei Ola! Medlemsnummer DEMO-10002.").wait_for()

    field.fill("Hei {ukjent}!")
    preview.get_by_text("{ukjent} er ikke en plassholder").wait_for()
    save.click()
    page.get_by_role("alert").get_by_text("{ukjent} er ikke en plassholder").wait_for()

    page.get_by_label("Personlig svar for innloggede medlemmer").fill(
        "Hei {fornavn}, her er kursene dine:\n\n{kurs:liste}"
    )
    save.click()
    page.get_by_text("Endringen er i bruk i chatten nå").wait_for(timeout=60_000)
    saved = page.get_by_label("Personlig svar for innloggede medlemmer")
    assert saved.input_value().startswith("Hei {fornavn}, her er kursene dine:")
    context.close()

    assert errors == []
    assert [value for value in DEMO_VALUES if value in app.log()] == []
