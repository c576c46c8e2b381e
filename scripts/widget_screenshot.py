"""Take the README's screenshot of the widget answering a question.

Runs veiviser on the demo knowledge base and a plain host page on two local
ports, opens the widget in Debian's chromium, asks one question and saves
the picture::

    .venv/bin/python scripts/widget_screenshot.py docs/widget.png

Needs the dev install (Playwright) and ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import servers

QUESTION = "Hva koster det å være medlem?"

HOST_PAGE = """<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>Demoforbundet</title>
<style>
body {{ font-family: Georgia, serif; margin: 0; background: #f6f4ef; color: #222; }}
header {{ background: #243b55; color: #fff; padding: 1.2rem 2rem; }}
main {{ padding: 2rem; max-width: 40rem; }}
</style></head>
<body><header><h1>Demoforbundet</h1></header>
<main><h2>Medlemskap</h2>
<p>Som medlem får du hjelp når du trenger det, kurs og gode medlemsfordeler.</p>
</main>
<script src="{app}/widget.js" defer></script></body></html>
"""


def take(target: Path) -> None:
    """Save a screenshot of the open widget after one answered question."""
    servers.STARTUP_LIMIT_SECONDS = 1800  # the first training may be slow
    with tempfile.TemporaryDirectory() as scratch:
        work, site = Path(scratch, "work"), Path(scratch, "site")
        work.mkdir()
        site.mkdir()
        with servers.static_site(site) as host:
            env = {"VEIVISER_ALLOWED_ORIGINS": host}
            with servers.veiviser_server(work, env=env) as app:
                page_html = HOST_PAGE.format(app=app.url)
                (site / "index.html").write_text(page_html, encoding="utf-8")
                _photograph(host + "/index.html", target)


def _photograph(url: str, target: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=servers.CHROMIUM, args=servers.chromium_args()
        )
        page = browser.new_page(viewport={"width": 1000, "height": 820}, locale="nb-NO")
        page.emulate_media(reduced_motion="reduce")
        page.goto(url)
        widget = page.locator("veiviser-chat")
        widget.locator(".launcher").click()
        widget.locator(".message.assistant").first.wait_for()
        page.keyboard.type(QUESTION)
        page.keyboard.press("Enter")
        widget.locator(".message.assistant").nth(1).wait_for()
        widget.locator(".feedback").last.wait_for()
        # Show the member's question at the top of the conversation.
        widget.locator(".message.member").last.evaluate(
            "element => element.scrollIntoView({block: 'start'})"
        )
        page.screenshot(path=str(target))
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="where to save the PNG")
    take(parser.parse_args().target)


if __name__ == "__main__":
    main()
