"""``veiviser chat``: a conversation in the terminal, without HTTP.

It goes through the same chat service as the API, so the conversation is
stored (masked) like any other.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import TYPE_CHECKING

import click

from veiviser.errors import VeiviserError
from veiviser.settings import Settings

if TYPE_CHECKING:
    from veiviser.service import Assistant
    from veiviser.service.chat import ShownButton

QUIT_WORDS = {"/slutt", "/quit", "/exit", "/q"}
_BLOCKS = {"p", "ul", "ol", "hr", "h1", "h2", "h3", "h4", "table", "tr", "br"}


class _PlainText(HTMLParser):
    """Turns the answer HTML into text a terminal can show."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: str | None = None
        self._link_start = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self.parts.append("\n  • ")
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._link_start = len(self.parts)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            address = self._href.removeprefix("mailto:")
            # A link whose text is its own address already shows it.
            shown = "".join(self.parts[self._link_start :]).strip()
            if shown not in (address, self._href):
                self.parts.append(f" ({address})")
            self._href = None
        elif tag == "p":
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of an answer's HTML."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _show(html: str | None, buttons: tuple[ShownButton, ...], name: str) -> list[str]:
    click.echo(click.style(f"{name}: ", bold=True) + html_to_text(html or ""))
    for number, button in enumerate(buttons, start=1):
        click.echo(f"  [{number}] {button.label}")
    click.echo()
    return [button.payload for button in buttons]


@click.command("chat")
@click.pass_obj
def chat_command(settings: Settings) -> None:
    """Talk to the assistant in the terminal.

    Type /slutt to end; a button's number presses it.
    """
    from veiviser.service import Assistant
    from veiviser.service.training import usable_model

    assistant = Assistant.open(settings)
    try:
        if usable_model(assistant.sessions, assistant.encoder) is None:
            # Training here, or waiting for another process's, takes minutes
            # on a large knowledge base; say so rather than sit silent.
            click.echo(
                "Venter på at modellen blir trent før chatten starter …", err=True
            )
        assistant.prepare()
        _converse(assistant)
    finally:
        assistant.close()


def _converse(assistant: Assistant) -> None:
    runtime = assistant.models.require()
    texts = runtime.view.texts
    name = texts.organisation.assistant_name
    conversation = assistant.chat.start()
    payloads = _show(conversation.greeting.html, conversation.greeting.buttons, name)
    while True:
        try:
            text = click.prompt(click.style("Du", bold=True), prompt_suffix=": ")
        except (EOFError, click.exceptions.Abort):
            click.echo()
            return
        if text.strip().lower() in QUIT_WORDS:
            return
        if text.strip().isdigit() and 1 <= int(text) <= len(payloads):
            text = payloads[int(text) - 1]
        try:
            exchange = assistant.chat.send(conversation.id, conversation.token, text)
        except VeiviserError as error:
            key = f"error_{error.code}"
            click.echo(
                texts.get(key if key in texts else "error_default", **error.details)
            )
            continue
        payloads = _show(exchange.reply.html, exchange.reply.buttons, name)
