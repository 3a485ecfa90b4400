"""The briefs' SVG charts, left to right and mirrored for a right-to-left language: labels and
the value axis on the right, bars growing leftwards, time running from right to left."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from incidents.briefs import charts

SVG = "{http://www.w3.org/2000/svg}"
ROWS = [("التمييز", 12.0, ""), ("الخصوصية", None, "أقل من 5")]
COMPARE = [("", 9.0, ""), ("", 3.0, "")]


def _tree(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314  # the charts' own output, not untrusted input


def _texts(root: ET.Element) -> dict[str, ET.Element]:
    texts = root.iter(f"{SVG}text")
    return {"".join(text.itertext()).strip("\u202b\u202c"): text for text in texts}


def _x(element: ET.Element) -> float:
    found = element.get("x")
    if found is None:
        found = next(element.iter(f"{SVG}tspan")).get("x")
    assert found is not None
    return float(found)


def test_bars_are_mirrored_right_to_left() -> None:
    ltr = _tree(charts.bars("d", "Title", ROWS, compare=COMPARE, legend=("2026-Q2", "before")))
    rtl = _tree(
        charts.bars("d", "Title", ROWS, compare=COMPARE, legend=("2026-Q2", "قبل"), rtl=True)
    )
    # Every chart places its texts by their physical side, whatever the page's direction.
    assert rtl.get("direction") == ltr.get("direction") == "ltr"
    bars_ltr = [rect for rect in ltr.iter(f"{SVG}rect") if rect.get("fill", "").startswith("#")]
    bars_rtl = [rect for rect in rtl.iter(f"{SVG}rect") if rect.get("fill", "").startswith("#")]
    label_ltr, label_rtl = _texts(ltr)["التمييز"], _texts(rtl)["التمييز"]
    # Left to right: the label ends where the bars start, bars grow rightwards.
    assert label_ltr.get("text-anchor") == "end"
    assert all(float(rect.get("x", 0)) >= _x(label_ltr) for rect in bars_ltr)
    # Right to left: the label is on the right, anchored at its right edge...
    assert label_rtl.get("text-anchor") == "start"
    assert _x(label_rtl) == charts.WIDTH - _x(label_ltr)
    # ... and every bar ends at the same right edge, growing leftwards.
    edges = {
        round(float(rect.get("x", 0)) + float(rect.get("width", 0)), 1)
        for rect in bars_rtl
        if rect.get("height") != "10"  # the legend's swatches
    }
    assert len(edges) == 1
    assert edges.pop() < _x(label_rtl)
    # The legend reads from the right: this period first (rightmost), then the comparison.
    texts = _texts(rtl)
    assert _x(texts["2026-Q2"]) > _x(texts["قبل"])
    # The title starts on the right.
    assert _x(texts["Title"]) == charts.WIDTH
    assert texts["Title"].get("text-anchor") == "end"


def test_right_to_left_words_are_embedded_and_periods_are_not() -> None:
    svg = charts.bars("d", "عنوان", ROWS, compare=COMPARE, legend=("2026-Q2", "قبل"), rtl=True)
    assert "\u202bالتمييز\u202c" in svg
    assert "\u202bأقل من 5\u202c" in svg  # the figure stays at the words' end
    assert "\u202b2026-Q2" not in svg  # would read Q2-2026
    english = charts.bars("d", "Title", ROWS, compare=COMPARE, legend=("2026-Q2", "before"))
    assert "\u202b" not in english


def test_time_runs_right_to_left_with_the_value_axis_on_the_right() -> None:
    points = [("2026-Q1", 12.0, ""), ("2026-Q2", 23.0, ""), ("2026-Q3", None, "أقل من 5")]
    ltr = _texts(_tree(charts.line("t", "T", points, unit="incidents")))
    rtl = _texts(_tree(charts.line("t", "T", points, unit="حوادث", rtl=True)))
    assert _x(ltr["2026-Q1"]) < _x(ltr["2026-Q2"])
    assert _x(rtl["2026-Q1"]) > _x(rtl["2026-Q2"])  # the first period on the right
    assert _x(rtl["2026-Q1"]) == charts.WIDTH - _x(ltr["2026-Q1"])
    # The value axis: its tick labels on the far side from the left-to-right chart's.
    assert _x(ltr["30"]) < _x(ltr["2026-Q1"])
    assert _x(rtl["30"]) > _x(rtl["2026-Q1"])
    assert rtl["30"].get("text-anchor") == "start"
    assert _x(rtl["حوادث"]) > charts.WIDTH / 2
