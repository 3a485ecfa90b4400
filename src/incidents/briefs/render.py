"""A brief as a delegate reads it: one view (every figure already worded), rendered as
self-contained HTML by a Jinja2 template (inline CSS and SVG, nothing fetched) and as a PDF by a
static Typst template reading the same view as JSON, with the same charts."""

from __future__ import annotations

import functools
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import markupsafe
import msgspec
import typst

from incidents.briefs import charts
from incidents.briefs.markdown import blocks

if TYPE_CHECKING:
    from incidents.briefs.schemas import BriefData

TEMPLATES = Path(__file__).resolve().parent / "templates"
_MISSING = "—"


class Editorial(msgspec.Struct, kw_only=True):
    """What the secretariat adds to the figures, and where the brief stands."""

    status: str
    executive_summary: str | None = None
    issuing_body: str | None = None
    issued_on: date | None = None
    version: int | None = None
    superseded_by: str | None = None
    retraction_notice: str | None = None
    retracted_on: date | None = None


def _band(data: BriefData) -> str:
    return f"fewer than {data.protection.k}"


def _count(data: BriefData, value: int | None, status: str) -> str:
    if status == "withheld":
        return "withheld"
    if value is None:
        return _band(data)
    return f"{value:,}"


def _missing(data: BriefData, status: str) -> str:
    return "withheld" if status == "withheld" else _band(data)


def _percent(value: float | None) -> str:
    if value is None:
        return _MISSING
    return f"{value:+.0%}" if value else "0%"


def _share(value: float | None) -> str:
    return _MISSING if value is None else f"{value:.0%}"


def _label(data: BriefData, dimension: str, code: str) -> str:
    return data.labels.get(dimension, {}).get(code, code)


def _scope(data: BriefData) -> str:
    if not data.scope:
        return "all members"
    return ", ".join(
        f"{key.replace('_', ' ')} {value}" for key, value in sorted(data.scope.items())
    )


def chart_set(data: BriefData) -> dict[str, str]:
    """The brief's charts as SVG, keyed by name (the same for HTML and PDF)."""
    tables = data.tables
    charts_svg = {
        "trend": charts.line(
            "trend",
            "Incidents per period",
            [
                (row["period"], row["incidents"], _missing(data, row["status"]))
                for row in tables["trend"]
            ],
        ),
        "domains": charts.bars(
            "domains",
            "Incidents by harm domain",
            [
                (
                    _label(data, "harm_domain", row["harm_domain"]),
                    row["incidents"],
                    _missing(data, row["status"]),
                )
                for row in tables["harm_domains"]
            ],
            compare=[
                ("", row["previous_incidents"], _missing(data, row["previous_status"]))
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
                    (row[dimension], row["incidents"], _missing(data, row["status"]))
                    for row in tables[name]
                ],
                compare=[
                    ("", row["year_ago_incidents"], _missing(data, row["year_ago_status"]))
                    for row in tables[name]
                ],
                legend=(data.period, "a year before"),
            )
    if "countries" in tables:
        shown = [row for row in tables["countries"] if row["status"] == "published"]
        charts_svg["countries"] = charts.bars(
            "countries",
            "Affected countries with the most incidents",
            [(_label(data, "country", row["country"]), row["incidents"], "") for row in shown[:15]],
        )
    charts_svg["severity"] = charts.bars(
        "severity",
        "Severity (the ladder, lowest first)",
        [
            (
                _label(data, "severity", row["severity"]),
                row["incidents"],
                _missing(data, row["status"]),
            )
            for row in tables["severity"]
        ],
    )
    charts_svg["pairs"] = charts.bars(
        "pairs",
        "Country pairs joined by cross-border incidents",
        [
            (
                f"{_label(data, 'country', row['a'])} – {_label(data, 'country', row['b'])}",
                row["incidents"],
                _missing(data, row["status"]),
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
                _missing(data, timely[f"within_{days}_days_status"]),
            )
            for days in (2, 10, 15)
        ],
        percent=True,
    )
    return charts_svg


def _cards(data: BriefData) -> list[dict[str, str]]:
    head = data.headline
    emerging = ", ".join(_label(data, "harm_subdomain", code) for code in head["emerging"])
    return [
        {
            "title": "Incidents",
            "value": _count(data, head["incidents"], head["incidents_status"]),
            "note": f"{_percent(head['change_previous'])} on the previous period, "
            f"{_percent(head['change_year_ago'])} on a year before",
        },
        {
            "title": "Cross-border",
            "value": _count(data, head["cross_border"], head["cross_border_status"]),
            "note": f"{_share(head['cross_border_share'])} of incidents affected more than one "
            "country",
        },
        {
            "title": "Serious incidents",
            "value": _count(data, head["serious"], head["serious_status"]),
            "note": "the top two rungs of the severity ladder, or an EU AI Act Art. 3(49) category",
        },
        {
            "title": "Reporting jurisdictions",
            "value": f"{head['reporting_jurisdictions']} of {head['inhabited_jurisdictions']}",
            "note": "inhabited jurisdictions in scope named as reporting (see coverage)",
        },
        {
            "title": "Days to report (median)",
            "value": _MISSING
            if head["median_days_to_report"] is None
            else f"{head['median_days_to_report']:.0f}",
            "note": f"{_share(head['within_15_days'])} of regulators' reports within 15 days",
        },
        {
            "title": "Emerging risks",
            "value": str(len(head["emerging"])),
            "note": emerging or "none flagged",
        },
    ]


def _tables(data: BriefData) -> list[dict[str, Any]]:
    tables = data.tables
    found: list[dict[str, Any]] = [
        {
            "title": "Harm domains",
            "header": ["Domain", "Incidents", "Previous", "Change", "A year before", "Change"],
            "numeric": [False, True, True, True, True, True],
            "rows": [
                [
                    _label(data, "harm_domain", r["harm_domain"]),
                    _count(data, r["incidents"], r["status"]),
                    _count(data, r["previous_incidents"], r["previous_status"]),
                    _percent(r["change_previous"]),
                    _count(data, r["year_ago_incidents"], r["year_ago_status"]),
                    _percent(r["change_year_ago"]),
                ]
                for r in tables["harm_domains"]
            ],
        }
    ]
    for name, dimension, title in (
        ("regions", "region", "UN regions (affected countries)"),
        ("sub_regions", "sub_region", "Sub-regions (affected countries)"),
    ):
        if name in tables:
            found.append(
                {
                    "title": title,
                    "header": ["Region", "Incidents", "A year before", "Change"],
                    "numeric": [False, True, True, True],
                    "rows": [
                        [
                            r[dimension],
                            _count(data, r["incidents"], r["status"]),
                            _count(data, r["year_ago_incidents"], r["year_ago_status"]),
                            _percent(r["change_year_ago"]),
                        ]
                        for r in tables[name]
                    ],
                }
            )
    if "countries" in tables:
        rows = tables["countries"]
        if data.scope.keys() & {"region", "sub_region"}:
            rows = sorted(rows, key=lambda row: _label(data, "country", row["country"]))
        found.append(
            {
                "title": "Affected countries",
                "header": ["Country", "Incidents"],
                "numeric": [False, True],
                "rows": [
                    [
                        _label(data, "country", r["country"]),
                        _count(data, r["incidents"], r["status"]),
                    ]
                    for r in rows
                ],
                "note": "The countries with the most incidents, among those published above the "
                "band."
                if not data.scope.keys() & {"region", "sub_region"}
                else None,
            }
        )
    found.append(
        {
            "title": "Severity",
            "header": ["Severity", "Incidents"],
            "numeric": [False, True],
            "rows": [
                [_label(data, "severity", r["severity"]), _count(data, r["incidents"], r["status"])]
                for r in tables["severity"]
            ],
        }
    )
    found.append(
        {
            "title": "Emerging risks",
            "header": ["Subdomain", "Incidents", "Share", "Share before", "p", "q", "Emerging"],
            "numeric": [False, True, True, True, True, True, False],
            "rows": [
                [
                    _label(data, "harm_subdomain", r["harm_subdomain"]),
                    _count(data, r["incidents"], r["status"]),
                    _share(r["share"]),
                    _share(r["history_share"]),
                    f"{r['p_value']:.4f}" if r["assessed"] else _MISSING,
                    f"{r['q_value']:.3f}" if r["assessed"] else _MISSING,
                    "yes" if r["emerging"] else "no" if r["assessed"] else "not assessed",
                ]
                for r in tables["emerging_risks"]
            ],
        }
    )
    found.append(
        {
            "title": "Country pairs",
            "header": ["Countries", "Cross-border incidents"],
            "numeric": [False, True],
            "rows": [
                [
                    f"{_label(data, 'country', r['a'])} – {_label(data, 'country', r['b'])}",
                    _count(data, r["incidents"], r["status"]),
                ]
                for r in tables["country_pairs"]
            ],
        }
    )
    found.append(
        {
            "title": "Coverage: who reported",
            "header": ["Region", "Reporting", "Inhabited jurisdictions", "Share", "Which"],
            "numeric": [False, True, True, True, False],
            "rows": [
                [
                    r["region"],
                    str(r["reporting"]),
                    str(r["inhabited"]),
                    _share(r["share"]),
                    ", ".join(_label(data, "country", code) for code in r["which"]) or _MISSING,
                ]
                for r in tables["coverage"]
            ],
        }
    )
    return found


def view(data: BriefData, editorial: Editorial, data_hash: str) -> dict[str, Any]:
    """Every word and figure of the brief, formatted once for both documents."""
    banner = None
    if editorial.status == "retracted":
        banner = (
            f"Retracted on {editorial.retracted_on}: {editorial.retraction_notice}"
            if editorial.retracted_on
            else "Retracted"
        )
    elif editorial.status == "superseded":
        banner = f"Superseded by a newer version: {editorial.superseded_by}"
    elif editorial.status not in {"published"}:
        banner = "Draft: not approved for circulation"
    year_only = [
        f"{row['year']}: {_count(data, row['incidents'], row['status'])}"
        for row in data.tables.get("year_only", [])
    ]
    issued = ", ".join(
        part
        for part in (
            editorial.issuing_body,
            f"issued {editorial.issued_on.isoformat()}" if editorial.issued_on else None,
            f"version {editorial.version}" if editorial.version else None,
        )
        if part
    )
    return {
        "title": data.title,
        "issued": issued,
        "scope": _scope(data),
        "meta": f"Scope: {_scope(data)} · taxonomy version {data.taxonomy_version} · "
        f"figures protected: {_band(data)} or ±{data.protection.noise} "
        f"· as of {data.as_of.isoformat()}",
        "provisional": f"PROVISIONAL: {data.period} is not over; each period is compared on its "
        f"first {data.days_compared} days"
        if data.provisional
        else None,
        "banner": banner,
        "summary": blocks(editorial.executive_summary or ""),
        "cards": _cards(data),
        "year_only": "Incidents whose date is known only to the year, counted apart: "
        + "; ".join(year_only)
        if year_only
        else None,
        "tables": _tables(data),
        "notes": data.notes,
        "audit": "passed" if data.audit.passed else "FAILED",
        "footer": f"Input snapshot sha256 {data.input_hash} · data sha256 {data_hash}",
    }


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
