"""Small, dependency-free SVG charts for briefs: they inline into HTML and embed into the PDF.

A figure in the band ("fewer than k") or withheld is drawn as an empty, hatched bar with its
words, never as 0; long labels wrap instead of being cut; axes get round ticks.

Right to left (Arabic), a chart is drawn as its mirror image, as Arabic-language publications
draw them: titles, labels and the value axis on the right, bars growing leftwards, time running
from right to left, legends read from the right. The SVG states ``direction='ltr'`` and places
every text by its physical side, because renderers disagree on the rest: a browser flips
`text-anchor` under an inherited right-to-left direction, Typst's SVG renderer ignores the
`direction` attribute. Each right-to-left text is instead wrapped in a Unicode right-to-left
embedding, which both honour, so that "أقل من 5" keeps its figure at its end.
"""

from __future__ import annotations

import math
import textwrap
import unicodedata
from collections.abc import Sequence
from html import escape

WIDTH = 680
BAR = 18
LINE_HEIGHT = 14
PALETTE = ("#1f5f8b", "#9ab8cf")
FAMILY = "font-family='Helvetica, Arial, sans-serif'"
FONT = f"{FAMILY} font-size='12'"
LABEL_CHARACTERS = 34

RTL_EMBEDDING, POP = "\u202b", "\u202c"

Value = float | None
Row = tuple[str, Value, str]
"""(label, value, what to write when the value is None: 'fewer than 5' or 'withheld')"""


class Side:
    """Where things go: left to right, or mirrored for a right-to-left language. Charts are laid
    out in left-to-right coordinates and every x, rectangle and anchor passes through here."""

    def __init__(self, rtl: bool = False) -> None:
        self.rtl = rtl

    def x(self, x: float) -> float:
        return WIDTH - x if self.rtl else x

    def rect(self, x: float, width: float) -> float:
        """The left edge of a rectangle laid out from ``x`` over ``width``."""
        return WIDTH - x - width if self.rtl else x

    def anchor(self, anchor: str) -> str:
        flipped = {"start": "end", "end": "start"}
        return flipped.get(anchor, anchor) if self.rtl else anchor

    def text(self, words: str) -> str:
        """Escaped words; right-to-left words (not a period such as 2026-Q2, which a
        right-to-left embedding would turn into Q2-2026) embedded right to left."""
        if self.rtl and any(unicodedata.bidirectional(char) in {"R", "AL"} for char in words):
            return f"{RTL_EMBEDDING}{escape(words)}{POP}"
        return escape(words)


def _svg(name: str, height: float, body: str, title: str, side: Side) -> str:
    pattern = f"hatch-{name}"
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height:.0f}' "
        f"viewBox='0 0 {WIDTH} {height:.0f}' direction='ltr' role='img' "
        f"aria-label='{escape(title, quote=True)}'>"
        f"<title>{escape(title)}</title>"
        f"<defs><pattern id='{pattern}' width='6' height='6' patternUnits='userSpaceOnUse' "
        "patternTransform='rotate(45)'><line x1='0' y1='0' x2='0' y2='6' stroke='#aaa' "
        "stroke-width='2'/></pattern></defs>"
        f"<text x='{side.x(0)}' y='16' text-anchor='{side.anchor('start')}' {FAMILY} "
        f"font-size='14' font-weight='bold'>{side.text(title)}</text>"
        f"{body.replace('url(#hatch)', f'url(#{pattern})')}</svg>"
    )


def _lines(label: str) -> list[str]:
    return textwrap.wrap(label, LABEL_CHARACTERS, break_long_words=True) or [""]


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top`` (steps of 1, 2 or 5 times a power of 10)."""
    if top <= 0:
        return [0.0, 1.0, 2.0, 3.0, 4.0, 5.0][: count + 2]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1.0)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def _number(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else f"{value:,.0f}"


def bars(
    name: str,
    title: str,
    rows: Sequence[Row],
    *,
    compare: Sequence[Row] | None = None,
    legend: tuple[str, str] = ("", ""),
    percent: bool = False,
    rtl: bool = False,
    nothing: str = "Nothing to show.",
) -> str:
    """Horizontal bars, optionally beside a comparison (e.g. the previous period); mirrored
    right to left when ``rtl``."""
    side = Side(rtl)
    label_width = 250
    usable = WIDTH - label_width - 110
    values = [value for _, value, _ in rows if value is not None]
    values += [value for _, value, _ in (compare or []) if value is not None]
    top = max(values, default=0.0) or 1.0
    parts: list[str] = []
    y = 32.0
    if compare:
        start = side.anchor("start")
        parts.append(
            f"<rect x='{side.rect(label_width, 10)}' y='{y - 9}' width='10' height='10' "
            f"fill='{PALETTE[0]}'/>"
            f"<text x='{side.x(label_width + 14)}' y='{y}' text-anchor='{start}' {FONT}>"
            f"{side.text(legend[0])}</text>"
            f"<rect x='{side.rect(label_width + 160, 10)}' y='{y - 9}' width='10' height='10' "
            f"fill='{PALETTE[1]}'/>"
            f"<text x='{side.x(label_width + 174)}' y='{y}' text-anchor='{start}' {FONT}>"
            f"{side.text(legend[1])}</text>"
        )
        y += 12
    if not rows:
        parts.append(
            f"<text x='{side.x(0)}' y='{y + 16}' text-anchor='{side.anchor('start')}' {FONT} "
            f"fill='#555'>{side.text(nothing)}</text>"
        )
        return _svg(name, y + 28, "".join(parts), title, side)
    for index, (label, value, missing) in enumerate(rows):
        series = [(value, missing, PALETTE[0])]
        if compare:
            _, other, other_missing = compare[index]
            series.append((other, other_missing, PALETTE[1]))
        lines = _lines(label)
        block = max(len(series) * BAR, len(lines) * LINE_HEIGHT) + 8
        text_top = y + (block - len(lines) * LINE_HEIGHT) / 2 + 11
        spans = "".join(
            f"<tspan x='{side.x(label_width - 8)}' y='{text_top + line * LINE_HEIGHT:.1f}'>"
            f"{side.text(text)}</tspan>"
            for line, text in enumerate(lines)
        )
        parts.append(f"<text text-anchor='{side.anchor('end')}' {FONT}>{spans}</text>")
        bar_top = y + (block - len(series) * BAR) / 2
        for offset, (amount, words, colour) in enumerate(series):
            top_y = bar_top + offset * BAR
            if amount is None:
                parts.append(
                    f"<rect x='{side.rect(label_width, 50)}' y='{top_y + 2:.1f}' width='50' "
                    f"height='{BAR - 4}' fill='url(#hatch)' stroke='#999'/>"
                    f"<text x='{side.x(label_width + 56)}' y='{top_y + 13:.1f}' "
                    f"text-anchor='{side.anchor('start')}' {FONT} "
                    f"fill='#444'>{side.text(words)}</text>"
                )
                continue
            width = max(1.5, usable * amount / top) if amount else 0.0
            parts.append(
                f"<rect x='{side.rect(label_width, width):.1f}' y='{top_y + 2:.1f}' "
                f"width='{width:.1f}' height='{BAR - 4}' fill='{colour}'/>"
                f"<text x='{side.x(label_width + width + 4):.1f}' y='{top_y + 13:.1f}' "
                f"text-anchor='{side.anchor('start')}' {FONT}>{_number(amount, percent)}</text>"
            )
        y += block
    return _svg(name, y + 6, "".join(parts), title, side)


def line(
    name: str, title: str, points: Sequence[Row], *, unit: str = "incidents", rtl: bool = False
) -> str:
    """A time series: one point per period, a gap (and its words) where a value is not
    published. Right to left (``rtl``), time runs from right to left and the value axis is on
    the right."""
    side = Side(rtl)
    height, bottom, right = 250.0, 200.0, WIDTH - 32.0
    values = [value for _, value, _ in points if value is not None]
    ticks = nice_ticks(max(values, default=0.0))
    top = ticks[-1] or 1.0
    widest = max(len(_number(tick, False)) for tick in ticks)
    left = 16 + 7.5 * widest
    step = (right - left) / max(1, len(points) - 1)
    plot_top = 40.0

    def y_of(value: float) -> float:
        return bottom - (bottom - plot_top) * value / top

    parts = [
        f"<text x='{side.x(left)}' y='{plot_top - 8}' text-anchor='{side.anchor('start')}' "
        f"{FONT} fill='#555'>{side.text(unit)}</text>",
    ]
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f"<line x1='{side.x(left)}' y1='{y:.1f}' x2='{side.x(right)}' y2='{y:.1f}' "
            f"stroke='{'#999' if tick == 0 else '#e5e5e5'}'/>"
            f"<text x='{side.x(left - 6)}' y='{y + 4:.1f}' text-anchor='{side.anchor('end')}' "
            f"{FONT}>{_number(tick, False)}</text>"
        )
    every = max(1, math.ceil(len(points) * 70 / (right - left)))
    segment: list[str] = []
    for index, (label, value, missing) in enumerate(points):
        x = side.x(left + index * step if len(points) > 1 else (left + right) / 2)
        if index % every == 0 or index == len(points) - 1:
            parts.append(
                f"<text x='{x:.1f}' y='{bottom + 18}' text-anchor='middle' {FONT}>"
                f"{side.text(label)}</text>"
            )
        if value is None:
            if len(segment) > 1:
                parts.append(_polyline(segment))
            segment = []
            parts.append(
                f"<text x='{x:.1f}' y='{bottom - 6}' text-anchor='middle' {FAMILY} "
                f"font-size='10' fill='#444'>{side.text(missing)}</text>"
            )
            continue
        y = y_of(value)
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3.5' fill='{PALETTE[0]}'/>"
            f"<text x='{x:.1f}' y='{y - 8:.1f}' text-anchor='middle' {FONT}>"
            f"{_number(value, False)}</text>"
        )
    if len(segment) > 1:
        parts.append(_polyline(segment))
    return _svg(name, height, "".join(parts), title, side)


def _polyline(points: list[str]) -> str:
    joined = " ".join(points)
    return f"<polyline points='{joined}' fill='none' stroke='{PALETTE[0]}' stroke-width='2'/>"


def with_family(svg: str, family: str) -> str:
    """The same chart asking for another font (one with the brief's script), e.g. Arabic."""
    return svg.replace(FAMILY, f"font-family={family}")
