"""Member feedback from the real widget reaches the review queue, in a browser.

Drives Debian's chromium with Playwright against a real ``veiviser serve``
(the fixtures of ``test_widget_browser``): thumbs down with a "Hva manglet?"
comment is stored on the reply and shows in the queue; the privacy panel
shows the conversation id an administrator needs to erase it.
"""

from __future__ import annotations

from sqlalchemy import create_engine, select

from test_widget_browser import ask, open_by_keyboard
from veiviser.store.models import Conversation, Feedback, Message

# The browser, page and sites (a real server and a host page) fixtures.
pytest_plugins = ["test_widget_browser"]


def databases(tmp_path_factory) -> list[str]:
    """The databases of the widget servers this test session started."""
    return [str(p) for p in tmp_path_factory.getbasetemp().glob("widget*/veiviser.db")]


def stored_feedback(database: str) -> list[tuple[str, str | None, str | None]]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    select(Feedback.rating, Feedback.comment, Message.intent).join(
                        Message, Message.id == Feedback.message_id
                    )
                )
            )
    finally:
        engine.dispose()


def test_thumbs_down_with_what_was_missing_is_stored_on_the_reply(
    page, sites, tmp_path_factory
):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    ask(page, "kontingent")
    reply = page.locator("veiviser-chat .message.assistant").nth(1)

    reply.get_by_role("button", name="Nei").click()
    page.locator("veiviser-chat .feedback textarea").fill("Beløpet <b>for i år</b>")
    page.locator("veiviser-chat .feedback").get_by_role("button").click()
    page.locator("veiviser-chat .feedback textarea").wait_for(state="detached")

    rows = [row for db in databases(tmp_path_factory) for row in stored_feedback(db)]
    assert ("down", "Beløpet <b>for i år</b>", "kontingent") in rows


def test_privacy_panel_shows_the_conversation_id(page, sites, tmp_path_factory):
    _, host_url = sites
    open_by_keyboard(page, host_url)
    ask(page, "kontingent")

    page.locator("veiviser-chat .privacy-open").click()
    shown = page.locator("veiviser-chat .privacy-id").inner_text()

    ids = set()
    for database in databases(tmp_path_factory):
        engine = create_engine(f"sqlite:///{database}")
        with engine.connect() as connection:
            ids |= set(connection.scalars(select(Conversation.id)))
        engine.dispose()
    assert any(conversation_id in shown for conversation_id in ids)
    assert "Samtale-id" in shown
