"""Small, dependency-free SVG charts for briefs: they inline into HTML and embed into the PDF.

A suppressed value (None) is drawn as an empty, hatched bar labelled "suppressed", never as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH = 640
BAR_HEIGHT = 22
PALETTE = ("#1f5f8b", "#9ab8cf")
FAMILY = "font-family='Helvetica, Arial, sans-serif'"
FONT = f"{FAMILY} font-size='12'"


def _svg(height: int, body: str, title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{height}' "
        f"viewBox='0 0 {WIDTH} {height}' role='img' aria-label='{escape(title, quote=True)}'>"
        "<defs><pattern id='hatch' width='6' height='6' patternUnits='userSpaceOnUse' "
        "patternTransform='rotate(45)'><line x1='0' y1='0' x2='0' y2='6' stroke='#bbb' "
        "stroke-width='2'/></pattern></defs>"
        f"<text x='0' y='16' {FAMILY} font-size='14' font-weight='bold'>{escape(title)}</text>"
        f"{body}</svg>"
    )


def bars(
    title: str,
    rows: Sequence[tuple[str, float | None]],
    *,
    compare: Sequence[float | None] | None = None,
    legend: tuple[str, str] = ("", ""),
    percent: bool = False,
) -> str:
    """Horizontal bars, optionally beside a comparison (e.g. the previous period)."""
    label_width = 230
    usable = WIDTH - label_width - 70
    values = [value for _, value in rows if value is not None]
    values += [value for value in (compare or []) if value is not None]
    top = max(values, default=0) or 1
    per_row = BAR_HEIGHT * (2 if compare else 1) + 6
    parts = []
    y = 34
    if compare:
        parts.append(
            f"<rect x='{label_width}' y='{y - 6}' width='10' height='10' fill='{PALETTE[0]}'/>"
            f"<text x='{label_width + 14}' y='{y + 3}' {FONT}>{escape(legend[0])}</text>"
            f"<rect x='{label_width + 140}' y='{y - 6}' width='10' height='10' "
            f"fill='{PALETTE[1]}'/>"
            f"<text x='{label_width + 154}' y='{y + 3}' {FONT}>{escape(legend[1])}</text>"
        )
        y += 16
    for index, (label, value) in enumerate(rows):
        parts.append(
            f"<text x='{label_width - 8}' y='{y + 15}' text-anchor='end' {FONT}>"
            f"{escape(_short(label))}</text>"
        )
        series = [(value, PALETTE[0])]
        if compare:
            series.append((compare[index], PALETTE[1]))
        for offset, (amount, colour) in enumerate(series):
            top_y = y + offset * BAR_HEIGHT
            if amount is None:
                parts.append(
                    f"<rect x='{label_width}' y='{top_y + 2}' width='60' height='{BAR_HEIGHT - 6}' "
                    "fill='url(#hatch)' stroke='#bbb'/>"
                    f"<text x='{label_width + 66}' y='{top_y + 15}' {FONT} "
                    "fill='#777'>suppressed</text>"
                )
                continue
            width = max(1.0, usable * amount / top) if amount else 0
            shown = f"{amount:.0%}" if percent else f"{amount:,.0f}"
            parts.append(
                f"<rect x='{label_width}' y='{top_y + 2}' width='{width:.1f}' "
                f"height='{BAR_HEIGHT - 6}' fill='{colour}'/>"
                f"<text x='{label_width + width + 4:.1f}' y='{top_y + 15}' {FONT}>{shown}</text>"
            )
        y += per_row
    return _svg(y + 4, "".join(parts), title)


def line(title: str, points: Sequence[tuple[str, float | None]]) -> str:
    """A time series: one point per period, gaps where a value is suppressed."""
    height, left, bottom, right = 240, 50, 200, WIDTH - 20
    values = [value for _, value in points if value is not None]
    top = max(values, default=0) or 1
    step = (right - left) / max(1, len(points) - 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return left + index * step, bottom - (bottom - 40) * value / top

    parts = [f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#999'/>"]
    for fraction in (0.5, 1.0):
        y = bottom - (bottom - 40) * fraction
        parts.append(
            f"<line x1='{left}' y1='{y:.1f}' x2='{right}' y2='{y:.1f}' stroke='#eee'/>"
            f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end' {FONT}>"
            f"{top * fraction:,.0f}</text>"
        )
    segment: list[str] = []
    for index, (label, value) in enumerate(points):
        x = left + index * step
        parts.append(
            f"<text x='{x:.1f}' y='{bottom + 18}' text-anchor='middle' {FONT}>"
            f"{escape(label)}</text>"
        )
        if value is None:
            if len(segment) > 1:
                parts.append(_polyline(segment))
            segment = []
            continue
        px, py = xy(index, value)
        segment.append(f"{px:.1f},{py:.1f}")
        parts.append(
            f"<circle cx='{px:.1f}' cy='{py:.1f}' r='3.5' fill='{PALETTE[0]}'/>"
            f"<text x='{px:.1f}' y='{py - 8:.1f}' text-anchor='middle' {FONT}>"
            f"{value:,.0f}</text>"
        )
    if len(segment) > 1:
        parts.append(_polyline(segment))
    return _svg(height, "".join(parts), title)


def _polyline(points: list[str]) -> str:
    joined = " ".join(points)
    return f"<polyline points='{joined}' fill='none' stroke='{PALETTE[0]}' stroke-width='2'/>"


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
