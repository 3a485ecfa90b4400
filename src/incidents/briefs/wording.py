"""A brief in words: every figure of the computed data formatted once (counts with their
protection band, shares, changes, labels), the cards and tables, and the editorial frame; both the
HTML and the PDF are rendered from this one view."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec

from incidents.briefs.markdown import blocks

if TYPE_CHECKING:
    from incidents.briefs.schemas import BriefData

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


def band(data: BriefData) -> str:
    return f"fewer than {data.protection.k}"


def count(data: BriefData, value: int | None, status: str) -> str:
    if status == "withheld":
        return "withheld"
    if value is None:
        return band(data)
    return f"{value:,}"


def missing(data: BriefData, status: str) -> str:
    return "withheld" if status == "withheld" else band(data)


def percent(value: float | None) -> str:
    if value is None:
        return _MISSING
    return f"{value:+.0%}" if value else "0%"


def share(value: float | None) -> str:
    return _MISSING if value is None else f"{value:.0%}"


def label(data: BriefData, dimension: str, code: str) -> str:
    return data.labels.get(dimension, {}).get(code, code)


def scope(data: BriefData) -> str:
    if not data.scope:
        return "all members"
    return ", ".join(
        f"{key.replace('_', ' ')} {value}" for key, value in sorted(data.scope.items())
    )


def _cards(data: BriefData) -> list[dict[str, str]]:
    head = data.headline
    emerging = ", ".join(label(data, "harm_subdomain", code) for code in head["emerging"])
    return [
        {
            "title": "Incidents",
            "value": count(data, head["incidents"], head["incidents_status"]),
            "note": f"{percent(head['change_previous'])} on the previous period, "
            f"{percent(head['change_year_ago'])} on a year before",
        },
        {
            "title": "Cross-border",
            "value": count(data, head["cross_border"], head["cross_border_status"]),
            "note": f"{share(head['cross_border_share'])} of incidents affected more than one "
            "country",
        },
        {
            "title": "Serious incidents",
            "value": count(data, head["serious"], head["serious_status"]),
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
            "note": f"{share(head['within_15_days'])} of regulators' reports within 15 days",
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
                    label(data, "harm_domain", r["harm_domain"]),
                    count(data, r["incidents"], r["status"]),
                    count(data, r["previous_incidents"], r["previous_status"]),
                    percent(r["change_previous"]),
                    count(data, r["year_ago_incidents"], r["year_ago_status"]),
                    percent(r["change_year_ago"]),
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
                            count(data, r["incidents"], r["status"]),
                            count(data, r["year_ago_incidents"], r["year_ago_status"]),
                            percent(r["change_year_ago"]),
                        ]
                        for r in tables[name]
                    ],
                }
            )
    if "countries" in tables:
        rows = tables["countries"]
        if data.scope.keys() & {"region", "sub_region"}:
            rows = sorted(rows, key=lambda row: label(data, "country", row["country"]))
        found.append(
            {
                "title": "Affected countries",
                "header": ["Country", "Incidents"],
                "numeric": [False, True],
                "rows": [
                    [
                        label(data, "country", r["country"]),
                        count(data, r["incidents"], r["status"]),
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
                [label(data, "severity", r["severity"]), count(data, r["incidents"], r["status"])]
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
                    label(data, "harm_subdomain", r["harm_subdomain"]),
                    count(data, r["incidents"], r["status"]),
                    share(r["share"]),
                    share(r["history_share"]),
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
                    f"{label(data, 'country', r['a'])} – {label(data, 'country', r['b'])}",
                    count(data, r["incidents"], r["status"]),
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
                    share(r["share"]),
                    ", ".join(label(data, "country", code) for code in r["which"]) or _MISSING,
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
        f"{row['year']}: {count(data, row['incidents'], row['status'])}"
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
        "scope": scope(data),
        "meta": f"Scope: {scope(data)} · taxonomy version {data.taxonomy_version} · "
        f"figures protected: {band(data)} or ±{data.protection.noise} "
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
