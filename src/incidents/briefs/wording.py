"""A brief in words: every figure of the computed data formatted once (counts with their
protection band, shares, changes, labels), the cards and tables, and the editorial frame; both the
HTML and the PDF are rendered from this one view."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec

from incidents.briefs.markdown import blocks
from incidents.briefs.notes import Wording, worded
from incidents.briefs.words import MISSING, Words
from incidents.languages import SOURCE_LANGUAGE, language_tag
from incidents.languages.messages import translations
from incidents.trends.protection import Method

if TYPE_CHECKING:
    pass


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


def scope(words: Words) -> str:
    _ = words.gettext
    data = words.data
    if not data.scope:
        return _("all members")
    regional = {"region", "sub_region"}
    return ", ".join(
        f"{key.replace('_', ' ')} {words.region(value) if key in regional else value}"
        for key, value in sorted(data.scope.items())
    )


def _cards(words: Words) -> list[dict[str, str]]:
    data, _ = words.data, words.gettext
    head = data.headline
    emerging = ", ".join(words.label("harm_subdomain", code) for code in head["emerging"])
    return [
        {
            "title": _("Incidents"),
            "value": words.count(head["incidents"], head["incidents_status"]),
            "note": _(
                "{change_previous} on the previous period, {change_year_ago} on a year before"
            ).format(
                change_previous=words.percent(head["change_previous"]),
                change_year_ago=words.percent(head["change_year_ago"]),
            ),
        },
        {
            "title": _("Cross-border"),
            "value": words.count(head["cross_border"], head["cross_border_status"]),
            "note": _("{share} of incidents affected more than one country").format(
                share=words.share(head["cross_border_share"])
            ),
        },
        {
            "title": _("Serious incidents"),
            "value": words.count(head["serious"], head["serious_status"]),
            "note": _(
                "the top two rungs of the severity ladder, or an EU AI Act Art. 3(49) category"
            ),
        },
        {
            "title": _("Reporting jurisdictions"),
            "value": _("{reporting} of {inhabited}").format(
                reporting=words.number(head["reporting_jurisdictions"]),
                inhabited=words.number(head["inhabited_jurisdictions"]),
            ),
            "note": _("inhabited jurisdictions in scope named as reporting (see coverage)"),
        },
        {
            "title": _("Days to report (median)"),
            "value": MISSING
            if head["median_days_to_report"] is None
            else words.number(round(head["median_days_to_report"])),
            "note": _("{share} of regulators' reports within 15 days").format(
                share=words.share(head["within_15_days"])
            ),
        },
        {
            "title": _("Emerging risks"),
            "value": str(len(head["emerging"])),
            "note": emerging or _("none flagged"),
        },
    ]


def _tables(words: Words) -> list[dict[str, Any]]:
    data, _ = words.data, words.gettext
    tables = data.tables
    found: list[dict[str, Any]] = [
        {
            "title": _("Harm domains"),
            "header": [
                _("Domain"),
                _("Incidents"),
                _("Previous"),
                _("Change"),
                _("A year before"),
                _("Change"),
            ],
            "numeric": [False, True, True, True, True, True],
            "rows": [
                [
                    words.label("harm_domain", r["harm_domain"]),
                    words.count(r["incidents"], r["status"]),
                    words.count(r["previous_incidents"], r["previous_status"]),
                    words.percent(r["change_previous"]),
                    words.count(r["year_ago_incidents"], r["year_ago_status"]),
                    words.percent(r["change_year_ago"]),
                ]
                for r in tables["harm_domains"]
            ],
        }
    ]
    for name, dimension, title in (
        ("regions", "region", _("UN regions (affected countries)")),
        ("sub_regions", "sub_region", _("Sub-regions (affected countries)")),
    ):
        if name in tables:
            found.append(
                {
                    "title": title,
                    "header": [_("Region"), _("Incidents"), _("A year before"), _("Change")],
                    "numeric": [False, True, True, True],
                    "rows": [
                        [
                            words.region(r[dimension]),
                            words.count(r["incidents"], r["status"]),
                            words.count(r["year_ago_incidents"], r["year_ago_status"]),
                            words.percent(r["change_year_ago"]),
                        ]
                        for r in tables[name]
                    ],
                }
            )
    if "countries" in tables:
        rows = tables["countries"]
        if data.scope.keys() & {"region", "sub_region"}:
            rows = sorted(rows, key=lambda row: words.label("country", row["country"]))
        found.append(
            {
                "title": _("Affected countries"),
                "header": [_("Country"), _("Incidents")],
                "numeric": [False, True],
                "rows": [
                    [
                        words.label("country", r["country"]),
                        words.count(r["incidents"], r["status"]),
                    ]
                    for r in rows
                ],
                "note": _(
                    "The countries with the most incidents, among those published above the band."
                )
                if not data.scope.keys() & {"region", "sub_region"}
                else None,
            }
        )
    found.append(
        {
            "title": _("Severity"),
            "header": [_("Severity"), _("Incidents")],
            "numeric": [False, True],
            "rows": [
                [words.label("severity", r["severity"]), words.count(r["incidents"], r["status"])]
                for r in tables["severity"]
            ],
        }
    )
    found.append(
        {
            "title": _("Emerging risks"),
            "header": [
                _("Subdomain"),
                _("Incidents"),
                _("Share"),
                _("Share before"),
                "p",
                "q",
                _("Emerging"),
            ],
            "numeric": [False, True, True, True, True, True, False],
            "rows": [
                [
                    words.label("harm_subdomain", r["harm_subdomain"]),
                    words.count(r["incidents"], r["status"]),
                    words.share(r["share"]),
                    words.share(r["history_share"]),
                    f"{r['p_value']:.4f}" if r["assessed"] else MISSING,
                    f"{r['q_value']:.3f}" if r["assessed"] else MISSING,
                    _("yes") if r["emerging"] else _("no") if r["assessed"] else _("not assessed"),
                ]
                for r in tables["emerging_risks"]
            ],
        }
    )
    found.append(
        {
            "title": _("Country pairs"),
            "header": [_("Countries"), _("Cross-border incidents")],
            "numeric": [False, True],
            "rows": [
                [
                    f"{words.label('country', r['a'])} – {words.label('country', r['b'])}",
                    words.count(r["incidents"], r["status"]),
                ]
                for r in tables["country_pairs"]
            ],
        }
    )
    found.append(
        {
            "title": _("Coverage: who reported"),
            "header": [
                _("Region"),
                _("Reporting"),
                _("Inhabited jurisdictions"),
                _("Share"),
                _("Which"),
            ],
            "numeric": [False, True, True, True, False],
            "rows": [
                [
                    words.region(r["region"]),
                    str(r["reporting"]),
                    str(r["inhabited"]),
                    words.share(r["share"]),
                    ", ".join(words.label("country", code) for code in r["which"]) or MISSING,
                ]
                for r in tables["coverage"]
            ],
        }
    )
    return found


def method_notes(words: Words) -> list[str]:
    """The method notes in the brief's language: the stored English ones, or the same notes
    worded again from the parameters the data keeps."""
    data = words.data
    if words.language == SOURCE_LANGUAGE:
        return data.notes
    wording = Wording(translations(words.language), words.number, words.share, words.decimal)
    method = Method(k=data.protection.k, noise=data.protection.noise)
    elapsed = data.days_compared if data.provisional else None
    period = words.isolated(data.period)
    return worded(data.period_kind, period, method, data.audit, elapsed, wording)


def view(words: Words, editorial: Editorial, data_hash: str) -> dict[str, Any]:
    """Every word and figure of the brief, formatted once for both documents, in its language."""
    data, _ = words.data, words.gettext
    banner = None
    if editorial.status == "retracted":
        banner = (
            _("Retracted on {date}: {notice}").format(
                date=editorial.retracted_on, notice=editorial.retraction_notice
            )
            if editorial.retracted_on
            else _("Retracted")
        )
    elif editorial.status == "superseded":
        banner = _("Superseded by a newer version: {version}").format(
            version=editorial.superseded_by
        )
    elif editorial.status not in {"published"}:
        banner = _("Draft: not approved for circulation")
    year_only = [
        f"{row['year']}: {words.count(row['incidents'], row['status'])}"
        for row in data.tables.get("year_only", [])
    ]
    issued = ", ".join(
        part
        for part in (
            editorial.issuing_body,
            _("issued {date}").format(date=words.isolated(editorial.issued_on.isoformat()))
            if editorial.issued_on
            else None,
            _("version {version}").format(version=editorial.version) if editorial.version else None,
        )
        if part
    )
    # The computed title is always this sentence; it is worded here, in the brief's language.
    title = data.title
    if title == f"AI incident risk brief {data.period}":
        title = _("AI incident risk brief {period}").format(period=words.isolated(data.period))
    return {
        "title": title,
        "issued": issued,
        "scope": scope(words),
        "meta": _(
            "Scope: {scope} · taxonomy version {version} · figures protected: {band} or ±{noise} "
            "· as of {date}"
        ).format(
            scope=scope(words),
            version=data.taxonomy_version,
            band=words.band(),
            noise=data.protection.noise,
            date=words.isolated(data.as_of.isoformat()),
        ),
        "provisional": _(
            "PROVISIONAL: {period} is not over; each period is compared on its first {days} days"
        ).format(period=words.isolated(data.period), days=data.days_compared)
        if data.provisional
        else None,
        "banner": banner,
        "summary": blocks(editorial.executive_summary or ""),
        "cards": _cards(words),
        "year_only": _(
            "Incidents whose date is known only to the year, counted apart: {counts}"
        ).format(counts="; ".join(year_only))
        if year_only
        else None,
        "tables": _tables(words),
        "notes": method_notes(words),
        "audit": _("passed") if data.audit.passed else _("FAILED"),
        "footer": _("Input snapshot sha256 {input} · data sha256 {data}").format(
            input=data.input_hash, data=data_hash
        ),
        "lang": words.language,
        "lang_tag": language_tag(words.language),
        "dir": words.direction,
        "words": {
            "summary": _("Executive summary"),
            "headline": _("Headline figures"),
            "charts": _("Charts"),
            "method": _("Method notes and caveats"),
            "none": _("None"),
        },
    }
