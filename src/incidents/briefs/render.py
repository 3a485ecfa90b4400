"""A brief as a delegate reads it: the view of wording.py (every figure already worded), rendered as
self-contained HTML by a Jinja2 template (inline CSS and SVG, nothing fetched) and as a PDF by a
static Typst template reading the same view as JSON, with the same charts."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe
import typst

from incidents.briefs import charts
from incidents.briefs.wording import label, missing

if TYPE_CHECKING:
    from incidents.briefs.schemas import BriefData

TEMPLATES = Path(__file__).resolve().parent / "templates"


def chart_set(data: BriefData) -> dict[str, str]:
    """The brief's charts as SVG, keyed by name (the same for HTML and PDF)."""
    tables = data.tables
    charts_svg = {
        "trend": charts.line(
            "trend",
            "Incidents per period",
            [
                (row["period"], row["incidents"], missing(data, row["status"]))
                for row in tables["trend"]
            ],
        ),
        "domains": charts.bars(
            "domains",
            "Incidents by harm domain",
            [
                (
                    label(data, "harm_domain", row["harm_domain"]),
                    row["incidents"],
                    missing(data, row["status"]),
                )
                for row in tables["harm_domains"]
            ],
            compare=[
                ("", row["previous_incidents"], missing(data, row["previous_status"]))
                for row in tables["harm_domains"]
            ],
            legend=(data.period, "previous period"),
        ),
    }
    for name, title in (
        ("regions", "Incidents by UN region (affected countries)"),
        ("sub_regions", "Incidents by sub-region (affected countries)"),
    ):
        if name in tables:
            dimension = "region" if name == "regions" else "sub_region"
            charts_svg[name] = charts.bars(
                name,
                title,
                [
                    (row[dimension], row["incidents"], missing(data, row["status"]))
                    for row in tables[name]
                ],
                compare=[
                    ("", row["year_ago_incidents"], missing(data, row["year_ago_status"]))
                    for row in tables[name]
                ],
                legend=(data.period, "a year before"),
            )
    if "countries" in tables:
        shown = [row for row in tables["countries"] if row["status"] == "published"]
        charts_svg["countries"] = charts.bars(
            "countries",
            "Affected countries with the most incidents",
            [(label(data, "country", row["country"]), row["incidents"], "") for row in shown[:15]],
        )
    charts_svg["severity"] = charts.bars(
        "severity",
        "Severity (the ladder, lowest first)",
        [
            (
                label(data, "severity", row["severity"]),
                row["incidents"],
                missing(data, row["status"]),
            )
            for row in tables["severity"]
        ],
    )
    charts_svg["pairs"] = charts.bars(
        "pairs",
        "Country pairs joined by cross-border incidents",
        [
            (
                f"{label(data, 'country', row['a'])} – {label(data, 'country', row['b'])}",
                row["incidents"],
                missing(data, row["status"]),
            )
            for row in tables["country_pairs"]
        ],
    )
    timely = tables["timeliness"][0]
    charts_svg["timeliness"] = charts.bars(
        "timeliness",
        "Regulators' reports filed within the EU AI Act Art. 73 deadlines",
        [
            (
                f"within {days} days",
                timely[f"within_{days}_days"],
                missing(data, timely[f"within_{days}_days_status"]),
            )
            for days in (2, 10, 15)
        ],
        percent=True,
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
            sys_inputs=inputs,
        )
    )
