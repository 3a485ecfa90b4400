"""A brief's published tables and headline, assembled from its protected (and audited) figures:
shares and changes are computed from those, never from exact counts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import polars as pl

from incidents.briefs.figures import ALPHA, Layout
from incidents.briefs.schemas import Figure
from incidents.trends import emerging as emerging_test
from incidents.trends import metrics
from incidents.trends.protection import Method

Row = dict[str, Any]
"""One row of a published table, its columns in the order the CSV files show them."""


class Published(msgspec.Struct, kw_only=True):
    tables: dict[str, list[Row]]
    headline: dict[str, Any]


def ratio(numerator: Figure, denominator: Figure) -> float | None:
    if numerator.value is None or not denominator.value:
        return None
    return round(numerator.value / denominator.value, 4)


def change(now: Figure, before: Figure) -> float | None:
    if now.value is None or not before.value:
        return None
    return round((now.value - before.value) / before.value, 4)


def assemble(
    layout: Layout,
    figures: Mapping[str, Figure],
    *,
    named: list[str],
    delays: pl.Series,
    countries: pl.DataFrame,
    scope: Mapping[str, str],
    method: Method,
) -> Published:
    """Every table and the headline. ``named``: the jurisdictions coverage may name;
    ``delays``: days to report of the period's regulators' filings; ``countries``: the
    reference table of countries."""
    calendar = layout.calendar
    label = layout.label

    def fig(name: str) -> Figure:
        return figures[name]

    def cell_row(name: str, prefix: str = "") -> Row:
        figure = fig(name)
        return {f"{prefix}incidents": figure.value, f"{prefix}status": figure.status}

    previous, year_ago = calendar.label(calendar.previous), calendar.label(calendar.year_ago)
    this_total = fig(f"total|{label}")
    before_total = fig(f"total|{previous}")
    ago_total = fig(f"total|{year_ago}")
    tables: dict[str, list[Row]] = {}
    tables["trend"] = [
        {"period": calendar.label(day), **cell_row(f"total|{calendar.label(day)}")}
        for day in calendar.trend
    ]
    tables["year_only"] = [
        {"year": int(name.split("|")[1]), **cell_row(name)} for name in layout.year_only
    ]
    tables["harm_domains"] = [
        {
            "harm_domain": code,
            **cell_row(f"harm_domain|{code}|{label}"),
            **cell_row(f"harm_domain|{code}|{previous}", "previous_"),
            **cell_row(f"harm_domain|{code}|{year_ago}", "year_ago_"),
            "change_previous": change(
                fig(f"harm_domain|{code}|{label}"), fig(f"harm_domain|{code}|{previous}")
            ),
            "change_year_ago": change(
                fig(f"harm_domain|{code}|{label}"), fig(f"harm_domain|{code}|{year_ago}")
            ),
        }
        for code in layout.domains
    ]
    tables["severity"] = [
        {"severity": code, **cell_row(f"severity|{code}|{label}")} for code in layout.severities
    ]
    for breakdown in layout.geography:
        if breakdown.dimension == "country" and layout.countries_shown:
            values = [name.split("|")[1] for name in layout.countries_shown]
        else:
            values = breakdown.values
        rows = []
        for value in values:
            row: Row = {
                breakdown.dimension: value,
                **cell_row(f"{breakdown.dimension}|{value}|{label}"),
            }
            if breakdown.year_ago:
                ago = f"{breakdown.dimension}|{value}|{year_ago}"
                row.update(cell_row(ago, "year_ago_"))
                row["change_year_ago"] = change(
                    fig(f"{breakdown.dimension}|{value}|{label}"), fig(ago)
                )
            rows.append(row)
        tables[breakdown.title] = rows
    tables["country_pairs"] = [
        {"a": name.split("|")[1], "b": name.split("|")[2], **cell_row(name)}
        for name in layout.top_pairs
    ]
    tables["emerging_risks"] = emerging(layout, figures, method)
    history_figure = fig(layout.history_total)
    for row in tables["emerging_risks"]:
        row["share"] = ratio(fig(f"harm_subdomain|{row['harm_subdomain']}|{label}"), this_total)
        row["history_share"] = ratio(
            fig(f"harm_subdomain|{row['harm_subdomain']}|history"), history_figure
        )
    timely = layout.timely
    filed_figure = fig(timely["reports"])
    tables["timeliness"] = [
        {
            "reports": filed_figure.value,
            "reports_status": filed_figure.status,
            "median_days": float(delays.median())  # type: ignore[arg-type]  # numeric median
            if filed_figure.status == "published" and delays.len()
            else None,
            **{
                f"within_{days}_days": ratio(fig(timely[f"within_{days}_days"]), filed_figure)
                for days in metrics.DEADLINES
            },
            **{
                f"within_{days}_days_status": fig(timely[f"within_{days}_days"]).status
                for days in metrics.DEADLINES
            },
        }
    ]
    tables["coverage"] = coverage(named, countries, scope)
    cross, serious = fig(layout.cross_border), fig(layout.serious)
    headline = {
        "incidents": this_total.value,
        "incidents_status": this_total.status,
        "previous": before_total.value,
        "year_ago": ago_total.value,
        "change_previous": change(this_total, before_total),
        "change_year_ago": change(this_total, ago_total),
        "cross_border": cross.value,
        "cross_border_status": cross.status,
        "cross_border_share": ratio(cross, this_total),
        "serious": serious.value,
        "serious_status": serious.status,
        "reporting_jurisdictions": len(named),
        "inhabited_jurisdictions": sum(row["inhabited"] for row in tables["coverage"]),
        "median_days_to_report": tables["timeliness"][0]["median_days"],
        "within_15_days": tables["timeliness"][0]["within_15_days"],
        "emerging": [row["harm_subdomain"] for row in tables["emerging_risks"] if row["emerging"]],
    }
    return Published(tables=tables, headline=headline)


def emerging(layout: Layout, figures: Mapping[str, Figure], method: Method) -> list[Row]:
    """The emerging-risk test on the protected counts: a history figure in the band counts as
    k - 1 (which only makes the test more cautious); a period figure in the band is not
    assessed (p = 1), but stays in the family."""
    calendar, label, subdomains = layout.calendar, layout.label, layout.subdomains
    days = [*calendar.history, calendar.start]

    def value(name: str) -> float:
        figure = figures[name]
        return float(figure.value) if figure.value is not None else float(method.k - 1)

    history = pl.DataFrame(
        [
            {
                "period": day,
                "harm_subdomain": code,
                "incidents": value(f"harm_subdomain|{code}|{calendar.label(day)}"),
            }
            for day in days
            for code in subdomains
        ]
    )
    totals = pl.DataFrame(
        [{"period": day, "incidents": value(f"total|{calendar.label(day)}")} for day in days]
    )
    assessed = [
        figures[f"harm_subdomain|{code}|{label}"].status == "published" for code in subdomains
    ]
    tested = emerging_test.emerging(
        history, totals, "harm_subdomain", subdomains, alpha=ALPHA, assessed=assessed
    )
    rows = []
    for row, code in zip(tested.iter_rows(named=True), subdomains, strict=True):
        now = figures[f"harm_subdomain|{code}|{label}"]
        before = figures[f"harm_subdomain|{code}|history"]
        rows.append(
            {
                "harm_subdomain": code,
                "incidents": now.value,
                "status": now.status,
                "history_incidents": before.value,
                "history_status": before.status,
                "p_value": round(float(row["p_value"]), 6),
                "q_value": round(float(row["q_value"]), 6),
                "assessed": bool(row["assessed"]),
                "emerging": bool(row["emerging"]),
            }
        )
    return rows


def coverage(named: list[str], countries: pl.DataFrame, scope: Mapping[str, str]) -> list[Row]:
    """Per region: the inhabited jurisdictions of the scope and those that reported."""
    if "inhabited" in countries.columns:
        countries = countries.filter(pl.col("inhabited"))
    countries = countries.filter(pl.col("region") != "")
    for field in ("region", "sub_region"):
        if field in scope:
            countries = countries.filter(pl.col(field) == scope[field])
    if "jurisdiction" in scope:
        countries = countries.filter(pl.col("code") == scope["jurisdiction"])
    if "development" in scope:
        countries = countries.filter(pl.col("development") == scope["development"])
    rows = []
    for (region,), group in countries.group_by("region", maintain_order=False):
        codes = group["code"].to_list()
        reporting = sorted(code for code in named if code in set(codes))
        rows.append(
            {
                "region": region,
                "inhabited": len(codes),
                "reporting": len(reporting),
                "share": round(len(reporting) / len(codes), 4) if codes else None,
                "which": reporting,
            }
        )
    return sorted(rows, key=lambda row: str(row["region"]))
