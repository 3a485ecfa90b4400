"""A brief as a delegate reads it: the view of wording.py (every figure already worded), rendered as
self-contained HTML by a Jinja2 template (inline CSS and SVG, nothing fetched) and as a PDF by a
static Typst template reading the same view as JSON, with the same charts."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import typst

from incidents.briefs import charts
from incidents.briefs.words import Words

TEMPLATES = Path(__file__).resolve().parent / "templates"


def chart_set(words: Words) -> dict[str, str]:
    """The brief's charts as SVG, keyed by name (the same for HTML and PDF), in the brief's
    language and a font that has its script."""
    charts_svg = _charts(words)
    if words.chart_family is None:
        return charts_svg
    return {name: charts.with_family(svg, words.chart_family) for name, svg in charts_svg.items()}


def _charts(words: Words) -> dict[str, str]:
    data, _ = words.data, words.gettext
    tables = data.tables
    rtl = words.direction == "rtl"
    nothing = _("Nothing to show.")
    charts_svg = {
        "trend": charts.line(
            "trend",
            _("Incidents per period"),
            [
                (row["period"], row["incidents"], words.missing(row["status"]))
                for row in tables["trend"]
            ],
            unit=_("incidents"),
            rtl=rtl,
        ),
        "domains": charts.bars(
            "domains",
            _("Incidents by harm domain"),
            [
                (
                    words.label("harm_domain", row["harm_domain"]),
                    row["incidents"],
                    words.missing(row["status"]),
                )
                for row in tables["harm_domains"]
            ],
            compare=[
                ("", row["previous_incidents"], words.missing(row["previous_status"]))
                for row in tables["harm_domains"]
            ],
            legend=(data.period, _("previous period")),
            rtl=rtl,
            nothing=nothing,
        ),
    }
    for name, title in (
        ("regions", _("Incidents by UN region (affected countries)")),
        ("sub_regions", _("Incidents by sub-region (affected countries)")),
    ):
        if name in tables:
            dimension = "region" if name == "regions" else "sub_region"
            charts_svg[name] = charts.bars(
                name,
                title,
                [
                    (words.region(row[dimension]), row["incidents"], words.missing(row["status"]))
                    for row in tables[name]
                ],
                compare=[
                    ("", row["year_ago_incidents"], words.missing(row["year_ago_status"]))
                    for row in tables[name]
                ],
                legend=(data.period, _("a year before")),
                rtl=rtl,
                nothing=nothing,
            )
    if "countries" in tables:
        shown = [row for row in tables["countries"] if row["status"] == "published"]
        charts_svg["countries"] = charts.bars(
            "countries",
            _("Affected countries with the most incidents"),
            [(words.label("country", row["country"]), row["incidents"], "") for row in shown[:15]],
            rtl=rtl,
            nothing=nothing,
        )
    charts_svg["severity"] = charts.bars(
        "severity",
        _("Severity (the ladder, lowest first)"),
        [
            (
                words.label("severity", row["severity"]),
                row["incidents"],
                words.missing(row["status"]),
            )
            for row in tables["severity"]
        ],
        rtl=rtl,
        nothing=nothing,
    )
    charts_svg["pairs"] = charts.bars(
        "pairs",
        _("Country pairs joined by cross-border incidents"),
        [
            (
                f"{words.label('country', row['a'])} – {words.label('country', row['b'])}",
                row["incidents"],
                words.missing(row["status"]),
            )
            for row in tables["country_pairs"]
        ],
        rtl=rtl,
        nothing=nothing,
    )
    timely = tables["timeliness"][0]
    charts_svg["timeliness"] = charts.bars(
        "timeliness",
        _("Regulators' reports filed within the EU AI Act Art. 73 deadlines"),
        [
            (
                _("within {days} days").format(days=days),
                timely[f"within_{days}_days"],
                words.missing(timely[f"within_{days}_days_status"]),
            )
            for days in (2, 10, 15)
        ],
        percent=True,
        rtl=rtl,
        nothing=nothing,
    )
    return charts_svg


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html(page: dict[str, Any], charts_svg: dict[str, str]) -> str:
    template = _environment().get_template("brief.html.j2")
    # The SVG is ours: charts.py escapes every text it writes into it.
    trusted = {name: markupsafe.Markup(svg) for name, svg in charts_svg.items()}  # noqa: S704
    return template.render(view=page, charts=trusted)


@functools.cache
def fonts() -> typst.Fonts:
    """The fonts a PDF may use: Typst's own (Latin, Greek, Cyrillic), and Arabic and Chinese
    from wheels, so that no system font is needed or used (read once per process)."""
    from importlib.resources import files

    return typst.Fonts(
        include_system_fonts=False,
        include_embedded_fonts=True,
        font_paths=[
            str(files("fontpkg_noto_sans_arabic") / "files"),
            str(files("paperang_p2_fonts_cjk") / "fonts"),
        ],
    )


def pdf(page: dict[str, Any], charts_svg: dict[str, str]) -> bytes:
    source = (TEMPLATES / "brief.typ").read_bytes()
    inputs = {
        "view": json.dumps(page),
        **{f"chart-{name}": svg for name, svg in charts_svg.items()},
    }
    inputs["charts"] = json.dumps(list(charts_svg))
    return bytes(
        typst.compile(
            source,
            format="pdf",
            ignore_system_fonts=True,
            font_paths=fonts(),
            sys_inputs=inputs,
        )
    )
