"""Answers are Markdown; members get sanitised HTML rendered on the server.

Markdown is rendered with raw HTML switched off, and the result is cleaned
again with an allow-list, so a hostile or careless answer cannot put a
script, an event attribute, an iframe or a ``javascript:`` link in front of
a member.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "b",
        "i",
        "s",
        "del",
        "ul",
        "ol",
        "li",
        "a",
        "code",
        "pre",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
EXTERNAL_PREFIXES = ("http://", "https://")

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style", "iframe", "object", "embed", "template"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    # Only "_blank" may survive as a target; rel is set on every link.
    tag_attribute_values={"a": {"target": {"_blank"}}},
    link_rel="noopener noreferrer",
    url_schemes=set(URL_SCHEMES),
    strip_comments=True,
)


def _link_open(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    index: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    token = tokens[index]
    href = str(token.attrGet("href") or "")
    # Links that leave the organisation's pages open in a new tab, so the
    # conversation stays where it was; mailto and tel links do not.
    if href.lower().startswith(EXTERNAL_PREFIXES):
        token.attrSet("target", "_blank")
    return renderer.renderToken(tokens, index, options, env)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("link_open", _link_open)
    return md


_md = _markdown()


def sanitize_html(html: str) -> str:
    """Clean HTML with the answer allow-list (also for HTML from elsewhere)."""
    return _cleaner.clean(html)


@lru_cache(maxsize=4096)
def render_markdown(text: str) -> str:
    """Render an answer's Markdown to sanitised HTML.

    Args:
        text: Markdown as staff wrote it; raw HTML in it is shown as text.

    Returns:
        HTML holding only allow-listed tags, attributes and link schemes.
    """
    return sanitize_html(_md.render(text)).strip()


def escape_text(text: str) -> str:
    """Plain text made safe to place inside HTML."""
    return nh3.clean_text(text)
