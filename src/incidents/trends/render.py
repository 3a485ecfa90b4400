"""A brief as a delegate reads it: self-contained HTML (inline CSS and SVG, nothing fetched) and a
PDF typeset by Typst from the same content and the same charts."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

import typst

from incidents.trends import charts

if TYPE_CHECKING:
    from incidents.trends.briefs import BriefData

_MISSING = "—"


def _number(value: Any) -> str:
    if value is None:
        return "suppressed"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _percent(value: float | None) -> str:
    return _MISSING if value is None else f"{value:+.0%}" if value < 0 or value > 0 else "0%"


def _share(value: float | None) -> str:
    return _MISSING if value is None else f"{value:.0%}"


def _label(data: BriefData, dimension: str, code: str) -> str:
    return data.labels.get(dimension, {}).get(code, code)


def chart_set(data: BriefData) -> dict[str, str]:
    """The brief's charts as SVG, keyed by name (the same for HTML and PDF)."""
    tables = data.tables
    domains = tables["harm_domains"]
    timely = tables["timeliness"][0] if tables["timeliness"] else {}
    return {
        "trend": charts.line(
            "Incidents per period", [(row["period"], row["incidents"]) for row in tables["trend"]]
        ),
        "domains": charts.bars(
            "Incidents by harm domain",
            [
                (_label(data, "harm_domain", row["harm_domain"]), row["incidents"])
                for row in domains
            ],
            compare=[row["previous"] for row in domains],
            legend=(data.period, "previous period"),
        ),
        "regions": charts.bars(
            "Incidents by UN region",
            [(row["region"], row["incidents"]) for row in tables["regions"]],
            compare=[row["year_ago"] for row in tables["regions"]],
            legend=(data.period, "a year before"),
        ),
        "pairs": charts.bars(
            "Country pairs joined by cross-border incidents",
            [
                (
                    f"{_label(data, 'country', row['a'])} – {_label(data, 'country', row['b'])}",
                    row["incidents"],
                )
                for row in tables["country_pairs"]
            ],
        ),
        "severity": charts.bars(
            "Severity mix",
            [
                (_label(data, "severity", row["severity"]), row["incidents"])
                for row in tables["severity"]
            ],
        ),
        "timeliness": charts.bars(
            "Reports filed within the Art. 73 deadlines",
            [(f"within {days} days", timely.get(f"within_{days}_days")) for days in (2, 10, 15)],
            percent=True,
        ),
    }


def _headline_items(data: BriefData) -> list[tuple[str, str, str]]:
    head = data.headline
    emerging = ", ".join(_label(data, "harm_subdomain", code) for code in head.emerging) or "none"
    return [
        (
            "Incidents",
            _number(head.incidents),
            f"{_percent(head.change_previous)} on the previous period, "
            f"{_percent(head.change_year_ago)} on a year before",
        ),
        (
            "Cross-border",
            _number(head.cross_border),
            f"{_share(head.cross_border_share)} of incidents",
        ),
        ("Serious incidents", _number(head.serious), "top of the severity ladder or EU Art. 3(49)"),
        (
            "Reporting jurisdictions",
            _number(head.reporting_jurisdictions),
            "filed at least one report",
        ),
        (
            "Days to report (median)",
            _MISSING if head.median_days_to_report is None else f"{head.median_days_to_report:.0f}",
            f"{_share(head.within_15_days)} within 15 days",
        ),
        ("Emerging risks", str(len(head.emerging)), emerging),
    ]


def _table_rows(data: BriefData) -> dict[str, tuple[list[str], list[list[str]]]]:
    tables = data.tables
    return {
        "Harm domains": (
            ["Domain", "Incidents", "Previous", "Change", "A year before", "Change"],
            [
                [
                    _label(data, "harm_domain", r["harm_domain"]),
                    _number(r["incidents"]),
                    _number(r["previous"]),
                    _percent(r["change_previous"]),
                    _number(r["year_ago"]),
                    _percent(r["change_year_ago"]),
                ]
                for r in tables["harm_domains"]
            ],
        ),
        "Emerging risks": (
            ["Subdomain", "Incidents", "Share", "Trailing share", "q", "Emerging"],
            [
                [
                    _label(data, "harm_subdomain", r["harm_subdomain"]),
                    _number(r["count"]),
                    _share(r["rate"]),
                    _share(r["trailing_rate"]),
                    f"{r['q_value']:.3f}" if r["q_value"] is not None else _MISSING,
                    "yes" if r["emerging"] else "no",
                ]
                for r in tables["emerging_risks"]
            ],
        ),
        "Coverage": (
            ["Region", "Reporting", "Countries", "Share", "Which"],
            [
                [
                    r["region"],
                    str(r["reporting"]),
                    str(r["countries"]),
                    _share(r["share"]),
                    ", ".join(r["which"]),
                ]
                for r in tables["coverage"]
            ],
        ),
    }


_CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#222;
line-height:1.4}h1{font-size:1.6rem;margin-bottom:.2rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:.85rem}.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:.8rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem}
.card b{display:block;font-size:1.5rem}
.card span{color:#555;font-size:.8rem}table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #eee;padding:.25rem .4rem;text-align:left}td.n{text-align:right}
figure{margin:1rem 0}li{margin-bottom:.3rem}
"""


def html(data: BriefData, charts_svg: dict[str, str], data_hash: str) -> str:
    cards = "".join(
        f"<div class='card'>{escape(title)}<b>{escape(value)}</b><span>{escape(note)}</span></div>"
        for title, value, note in _headline_items(data)
    )
    figures = "".join(f"<figure>{svg}</figure>" for svg in charts_svg.values())
    tables = ""
    for title, (header, rows) in _table_rows(data).items():
        head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
        body = (
            "".join(
                "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
                for row in rows
            )
            or f"<tr><td colspan='{len(header)}'>None</td></tr>"
        )
        tables += f"<h2>{escape(title)}</h2><table><tr>{head}</tr>{body}</table>"
    notes = "".join(f"<li>{escape(note)}</li>" for note in data.notes)
    scope = (
        ", ".join(f"{key}={value}" for key, value in sorted(data.scope.items())) or "all members"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(data.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(data.title)}</h1><p class='meta'>Scope: {escape(scope)} · taxonomy version "
        f"{data.taxonomy_version} · suppression below {data.k}</p>"
        f"<h2>Headline figures</h2><div class='cards'>{cards}</div>"
        f"<h2>Charts</h2>{figures}{tables}"
        f"<h2>Method notes and caveats</h2><ul>{notes}</ul>"
        f"<p class='meta'>Input snapshot sha256 {escape(data.input_hash)} · data sha256 "
        f"{escape(data_hash)}</p></body></html>"
    )


def _typst_text(text: str) -> str:
    """Typst markup with every special character escaped."""
    special = set("\\#*_`$<>@[]~/=-+\"'")
    return "".join(f"\\{char}" if char in special else char for char in text)


def pdf(data: BriefData, charts_svg: dict[str, str], data_hash: str) -> bytes:
    cards = ", ".join(
        f"[*{_typst_text(title)}*], [{_typst_text(value)}], [{_typst_text(note)}]"
        for title, value, note in _headline_items(data)
    )
    figures = "\n".join(
        f'#figure(image(bytes(sys.inputs.at("{name}")), format: "svg", width: 100%))'
        for name in charts_svg
    )
    tables = ""
    for title, (header, rows) in _table_rows(data).items():
        cells = ", ".join(f"[*{_typst_text(cell)}*]" for cell in header)
        for row in rows:
            cells += ", " + ", ".join(f"[{_typst_text(cell)}]" for cell in row)
        tables += (
            f"\n== {_typst_text(title)}\n"
            f"#table(columns: {len(header)}, stroke: 0.3pt + gray, {cells})\n"
        )
    notes = "\n".join(f"- {_typst_text(note)}" for note in data.notes)
    scope = (
        ", ".join(f"{key}={value}" for key, value in sorted(data.scope.items())) or "all members"
    )
    source = f"""
#set page(paper: "a4", margin: 1.8cm, numbering: "1")
#set text(size: 9.5pt)
= {_typst_text(data.title)}
Scope: {_typst_text(scope)} · taxonomy version {data.taxonomy_version} · suppression below {data.k}

== Headline figures
#table(columns: (auto, auto, 1fr), stroke: 0.3pt + gray, {cards})

== Charts
{figures}
{tables}
== Method notes and caveats
{notes}

#text(size: 7pt)[Input snapshot sha256 {data.input_hash} · data sha256 {data_hash}]
"""
    return bytes(
        typst.compile(
            source.encode(), format="pdf", ignore_system_fonts=True, sys_inputs=charts_svg
        )
    )
