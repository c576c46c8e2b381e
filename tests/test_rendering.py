"""Answer Markdown becomes sanitised HTML: links, lists, bold; nothing active."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from veiviser.dialogue import render_markdown


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """The real elements of ``html`` (escaped text does not count)."""
    parser = _Elements()
    parser.feed(html)
    return parser.found


def test_bold_lists_and_paragraphs_render():
    html = render_markdown("Du har **25 dager**.\n\n- én\n- to\n\n1. først")

    assert "<strong>25 dager</strong>" in html
    assert "<ul>\n<li>én</li>\n<li>to</li>\n</ul>" in html
    assert "<ol>\n<li>først</li>\n</ol>" in html


def test_external_link_opens_in_new_tab_with_noopener():
    html = render_markdown("[Les mer](https://forbund.example/ferie)")

    assert html == (
        '<p><a href="https://forbund.example/ferie" target="_blank" '
        'rel="noopener noreferrer">Les mer</a></p>'
    )


@pytest.mark.parametrize(
    "href", ["mailto:post@forbund.example", "tel:22334455", "/medlem"]
)
def test_mailto_tel_and_local_links_stay_in_place(href):
    html = render_markdown(f"[lenke]({href})")

    assert f'href="{href}"' in html
    assert 'rel="noopener noreferrer"' in html
    assert "target" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](java&#115;cript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
        '<a href="javascript:alert(1)">x</a>',
    ],
)
def test_no_javascript_or_data_links_survive(markdown):
    found = elements(render_markdown(markdown))

    for _, attrs in found:
        href = (attrs.get("href") or "https:").lower()
        assert href.startswith(("http:", "https:", "mailto:", "tel:", "/"))


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<iframe src='https://evil.example'></iframe>",
        '<img src=x onerror="alert(1)">',
        '<div onclick="alert(1)">klikk</div>',
        "<svg onload=alert(1)>",
        "<style>body{display:none}</style>",
        "<object data='x'></object>",
        "![bilde](https://evil.example/track.png)",
        '[x](https://ok.example "title" onmouseover="alert(1)")',
    ],
)
def test_no_scripts_iframes_images_or_event_attributes(markdown):
    found = elements(render_markdown(markdown))

    tags = {tag for tag, _ in found}
    assert not tags & {"script", "iframe", "img", "svg", "style", "object", "div"}
    for _, attrs in found:
        assert not [name for name in attrs if name.startswith("on")]


def test_raw_html_is_shown_as_text_not_dropped():
    assert render_markdown("Bruk <b> for fet") == "<p>Bruk &lt;b&gt; for fet</p>"


def test_norwegian_letters_and_emoji_render_exactly():
    assert render_markdown("Ærlig talt, søknad på 🙂 og Å") == (
        "<p>Ærlig talt, søknad på 🙂 og Å</p>"
    )


def test_huge_or_deeply_nested_markdown_renders_without_failing():
    assert "dypt" in render_markdown("> " * 10 + "dypt")
    # Past the parser's nesting limit content is dropped, not an error.
    assert render_markdown("> " * 5000 + "dypt").startswith("<blockquote>")
    assert "punkt" in render_markdown(
        "".join("  " * i + "- punkt\n" for i in range(200))
    )
    assert len(render_markdown("**fet** " * 5000)) > 5000
