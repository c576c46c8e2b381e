"""Charts as server-rendered SVG, with the same data as a table and as CSV.

One ``Chart`` holds the data; ``svg``, the template's table and ``to_csv``
all read that one object, so the picture, the screen-reader table and the
download cannot disagree. No script, no CDN: the SVG is inline markup with
``role="img"``, a ``<title>`` and a ``<desc>``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

Kind = Literal["bars", "hbars", "heatmap"]
Number = int | float
# Colour-blind safe (Okabe-Ito) for up to three series.
PALETTE = ("#0072B2", "#E69F00", "#009E73")
WIDTH, HEIGHT = 720, 240
_PAD_LEFT, _PAD_BOTTOM, _PAD_TOP = 48, 36, 24


@dataclass(frozen=True)
class Chart:
    """A chart's data: the first column labels the rows, the rest are numbers."""

    key: str
    title: str
    description: str
    kind: Kind
    columns: tuple[str, ...]
    # None is a value that does not exist (no wait when nobody was taken):
    # no bar, a dash in the table, an empty CSV cell.
    rows: tuple[tuple[str, *tuple[Number | None, ...]], ...]

    @property
    def series(self) -> tuple[str, ...]:
        return self.columns[1:]

    def values(self) -> list[Number]:
        return [value for row in self.rows for value in row[1:] if value is not None]


def to_csv(chart: Chart) -> str:
    """The chart's data as CSV: a header row, then one row per label."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_cell(name) for name in chart.columns])
    for label, *values in chart.rows:
        writer.writerow([_cell(label), *values])
    return buffer.getvalue()


def svg(chart: Chart) -> str:
    """The chart as accessible inline SVG markup."""
    body = {"bars": _bars, "hbars": _hbars, "heatmap": _heatmap}[chart.kind](chart)
    ident = f"chart-{escape(chart.key)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'viewBox="0 0 {WIDTH} {_height(chart)}" '
        f'aria-labelledby="{ident}-title {ident}-desc">'
        f'<title id="{ident}-title">{escape(chart.title)}</title>'
        f'<desc id="{ident}-desc">{escape(chart.description)}</desc>'
        f"{body}</svg>"
    )


def _cell(text: str) -> str:
    # A label starting with a formula character would run in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _height(chart: Chart) -> int:
    if chart.kind == "hbars":
        return _PAD_TOP + 22 * max(len(chart.rows), 1) + 8
    if chart.kind == "heatmap":
        return _PAD_TOP + 22 * len(chart.rows) + 28
    return HEIGHT


def _rect(
    x: float,
    y: float,
    w: float,
    h: float,
    fill: str,
    label: str,
    series: str,
    value: Number,
) -> str:
    shown = f"{label}, {series}: {value}"
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" '
        f'height="{max(h, 0):.1f}" '
        f'fill="{fill}" data-label="{escape(label)}" data-series="{escape(series)}" '
        f'data-value="{value}"><title>{escape(shown)}</title></rect>'
    )


def _text(x: float, y: float, text: str, anchor: str = "middle", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="#222">{escape(text)}</text>'
    )


def _bars(chart: Chart) -> str:
    peak = max(chart.values(), default=0) or 1
    plot_w = WIDTH - _PAD_LEFT - 8
    plot_h = HEIGHT - _PAD_TOP - _PAD_BOTTOM
    slot = plot_w / max(len(chart.rows), 1)
    bar_w = max(slot * 0.8 / max(len(chart.series), 1), 0.5)
    # Label every n-th slot so that labels never overlap (about 6.5 px a
    # character at 11 px).
    widest = max((len(row[0]) for row in chart.rows), default=1) * 6.5 + 10
    every = max(1, math.ceil(widest / slot))
    parts = [
        _text(_PAD_LEFT - 6, _PAD_TOP + 4, _number(peak), "end"),
        _text(_PAD_LEFT - 6, _PAD_TOP + plot_h, "0", "end"),
        f'<line x1="{_PAD_LEFT}" y1="{_PAD_TOP + plot_h}" x2="{WIDTH - 8}" '
        f'y2="{_PAD_TOP + plot_h}" stroke="#888"/>',
    ]
    for index, (label, *values) in enumerate(chart.rows):
        x0 = _PAD_LEFT + index * slot + slot * 0.1
        for n, (name, value) in enumerate(zip(chart.series, values, strict=True)):
            if value is None:
                continue
            h = plot_h * value / peak
            parts.append(
                _rect(
                    x0 + n * bar_w,
                    _PAD_TOP + plot_h - h,
                    bar_w,
                    h,
                    PALETTE[n % len(PALETTE)],
                    label,
                    name,
                    value,
                )
            )
        if index % every == 0:
            parts.append(_text(x0 + slot * 0.4, HEIGHT - _PAD_BOTTOM + 14, label))
    parts.extend(_legend(chart.series))
    return "".join(parts)


def _legend(series: Sequence[str]) -> list[str]:
    parts = []
    for n, name in enumerate(series):
        x = _PAD_LEFT + n * 180
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" '
            f'fill="{PALETTE[n % len(PALETTE)]}" aria-hidden="true"/>'
        )
        parts.append(_text(x + 14, HEIGHT - 5, _short(name, 26), "start"))
    return parts


def _hbars(chart: Chart) -> str:
    peak = max((row[1] for row in chart.rows), default=0) or 1
    label_w, plot_w = 260, WIDTH - 260 - 60
    parts = []
    for index, (label, value, *_rest) in enumerate(chart.rows):
        y = _PAD_TOP + index * 22
        parts.append(_text(label_w - 6, y + 14, _short(label), "end"))
        w = plot_w * value / peak
        parts.append(
            _rect(label_w, y + 3, w, 16, PALETTE[0], label, chart.series[0], value)
        )
        parts.append(_text(label_w + w + 4, y + 15, _number(value), "start"))
    return "".join(parts)


def _heatmap(chart: Chart) -> str:
    peak = max(chart.values(), default=0) or 1
    cell_w = (WIDTH - 60) / max(len(chart.series), 1)
    parts = []
    for col, name in enumerate(chart.series):
        if col % 3 == 0:
            parts.append(_text(60 + col * cell_w + cell_w / 2, _PAD_TOP - 6, name))
    for row_index, (label, *values) in enumerate(chart.rows):
        y = _PAD_TOP + row_index * 22
        parts.append(_text(54, y + 15, label, "end"))
        for col, (name, value) in enumerate(zip(chart.series, values, strict=True)):
            parts.append(
                _rect(
                    60 + col * cell_w,
                    y,
                    cell_w - 1,
                    21,
                    _shade(value / peak),
                    label,
                    name,
                    value,
                )
            )
    return "".join(parts)


def _shade(level: float) -> str:
    # From near white to the palette's blue; never fully white, so a zero
    # cell is still visible as a cell.
    low, high = (0xF2, 0xF6, 0xFA), (0x00, 0x4C, 0x8C)
    channels = (round(a + (b - a) * level) for a, b in zip(low, high, strict=True))
    return "#" + "".join(f"{c:02x}" for c in channels)


def _number(value: Number) -> str:
    return (
        f"{value:,}".replace(",", "\u00a0")
        if isinstance(value, int)
        else f"{value:.2f}"
    )


def _short(text: str, limit: int = 38) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
