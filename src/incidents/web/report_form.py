"""The report form: its fields, their choices from the taxonomy, and the conversion between a
posted form and the API's own JSON body (so that the API's checks, and its 422 error tree, apply
unchanged).

The form holds one harm (domain or subdomain, type, affected groups) and one source: what a
filing needs; a report with several harms is corrected over the API, and the form keeps the
extra ones untouched (see `raw_patch`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from incidents.languages import LANGUAGES
from incidents.languages.places import country_name
from incidents.reports import schemas
from incidents.taxonomy.service import Taxonomy

#: Form fields, in page order; each error of the API lands beside one of them (`ALIASES`).
FIELDS = (
    "title",
    "summary",
    "event_type",
    "severity",
    "eu_serious_incident",
    "harm_domain",
    "harm_type",
    "affected_groups",
    "ai_system_name",
    "developer",
    "deployer",
    "system_type",
    "sectors",
    "affected_jurisdictions",
    "occurred_on",
    "detected_on",
    "people_affected",
    "deaths",
    "injuries",
    "source_url",
    "source_title",
    "actions_taken",
    "language",
    "sharing",
    "incident",
)
LIST_FIELDS = frozenset({"eu_serious_incident", "affected_groups", "sectors"})
ALIASES = {
    "harms": "harm_domain",
    "harms.domain": "harm_domain",
    "harms.harm_type": "harm_type",
    "harms.affected_groups": "affected_groups",
    "ai_system": "ai_system_name",
    "ai_system.name": "ai_system_name",
    "ai_system.developer": "developer",
    "ai_system.deployer": "deployer",
    "ai_system.system_type": "system_type",
    "sources": "source_url",
    "sources.url": "source_url",
    "sources.title": "source_title",
}


class Choice(msgspec.Struct, frozen=True):
    code: str
    label: str
    parent: str | None = None


def choices(taxonomy: Taxonomy, dimension: str) -> list[Choice]:
    """The live codes of a dimension in the taxonomy's order (parents before their children)."""
    found = taxonomy.dimension(dimension)
    entries = sorted(
        (entry for entry in found.codes.values() if entry.retired_in is None),
        key=lambda entry: entry.order,
    )
    by_parent: dict[str | None, list[Any]] = {}
    for entry in entries:
        by_parent.setdefault(entry.parent, []).append(entry)
    ordered: list[Choice] = []

    def walk(parent: str | None) -> None:
        for entry in by_parent.get(parent, []):
            ordered.append(Choice(entry.code, found.label(entry.code), entry.parent))
            walk(entry.code)

    walk(None)
    return ordered


#: The form's pickers and the taxonomy dimension each offers.
CHOICE_DIMENSIONS = {
    "severity": "severity",
    "eu_serious_incident": "eu_serious_incident",
    "harm_domain": "harm_domain",
    "harm_type": "harm_type",
    "affected_groups": "affected_group",
    "system_type": "ai_system_type",
    "sectors": "sector",
}


def form_choices(taxonomy: Taxonomy) -> dict[str, list[Choice]]:
    return {name: choices(taxonomy, dimension) for name, dimension in CHOICE_DIMENSIONS.items()}


def values_of(form: Mapping[str, Any]) -> dict[str, Any]:
    """A posted form as field -> text (or list of texts for the multi-valued fields)."""
    values: dict[str, Any] = {}
    for name in FIELDS:
        value = form.get(name)
        if name in LIST_FIELDS:
            listed = value if isinstance(value, list) else [value] if value else []
            values[name] = [str(item) for item in listed if str(item).strip()]
        else:
            values[name] = (value[-1] if isinstance(value, list) else value or "").strip()
    return values


def values_from_report(report: schemas.ReportContent) -> dict[str, Any]:
    """A report's (or a revision's content's) values as the form shows them."""
    harm = report.harms[0] if report.harms else None
    proposed = getattr(report, "proposed_incident", None)
    source = report.sources[0] if report.sources else None
    return {
        "title": report.title,
        "summary": report.summary,
        "event_type": report.event_type,
        "severity": report.severity,
        "eu_serious_incident": list(report.eu_serious_incident),
        "harm_domain": harm.domain if harm else "",
        "harm_type": (harm.harm_type or "") if harm else "",
        "affected_groups": list(harm.affected_groups) if harm else [],
        "ai_system_name": report.ai_system.name,
        "developer": report.ai_system.developer or "",
        "deployer": report.ai_system.deployer or "",
        "system_type": report.ai_system.system_type or "",
        "sectors": list(report.sectors),
        "affected_jurisdictions": ", ".join(report.affected_jurisdictions),
        "occurred_on": report.occurred_on,
        "detected_on": report.detected_on.isoformat() if report.detected_on else "",
        "people_affected": _text(report.people_affected),
        "deaths": _text(report.deaths),
        "injuries": _text(report.injuries),
        "source_url": (source.url or "") if source else "",
        "source_title": (source.title or "") if source else "",
        "actions_taken": report.actions_taken or "",
        "language": report.language,
        "sharing": getattr(report, "sharing", ""),
        "incident": proposed.ref if proposed else "",
    }


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _number(text: str) -> int | str | None:
    """An integer as the API takes it; anything else is passed on for the API to refuse."""
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def countries(text: str, taxonomy: Taxonomy) -> list[str]:
    """Countries typed as ISO codes or names in any of the six languages (comma- or
    semicolon-separated, the Arabic comma too) -> alpha-2 codes; what is neither is passed on
    as typed, for the API to name."""
    by_name = {
        country_name(code, language, country.name).lower(): code
        for language in LANGUAGES
        for code, country in taxonomy.countries.items()
    }
    by_name.update({country.name.lower(): code for code, country in taxonomy.countries.items()})
    found: list[str] = []
    for part in text.replace(";", ",").replace("\u060c", ",").replace("\uff0c", ",").split(","):
        typed = part.strip()
        if not typed:
            continue
        code = typed.upper() if typed.upper() in taxonomy.countries else by_name.get(typed.lower())
        found.append(code or typed)
    return list(dict.fromkeys(found))


def raw_content(values: Mapping[str, Any], taxonomy: Taxonomy) -> dict[str, Any]:
    """The form's content as the API's JSON body would carry it."""
    harm: dict[str, Any] = {"domain": values["harm_domain"]}
    if values["harm_type"]:
        harm["harm_type"] = values["harm_type"]
    if values["affected_groups"]:
        harm["affected_groups"] = values["affected_groups"]
    ai_system: dict[str, Any] = {"name": values["ai_system_name"]}
    for field, name in (("developer", "developer"), ("deployer", "deployer")):
        if values[field]:
            ai_system[name] = values[field]
    if values["system_type"]:
        ai_system["system_type"] = values["system_type"]
    raw: dict[str, Any] = {
        "title": values["title"],
        "summary": values["summary"],
        "language": values["language"] or "en",
        "event_type": values["event_type"],
        "severity": values["severity"],
        "eu_serious_incident": values["eu_serious_incident"],
        "harms": [harm] if values["harm_domain"] else [],
        "ai_system": ai_system,
        "sectors": values["sectors"],
        "affected_jurisdictions": countries(values["affected_jurisdictions"], taxonomy),
        "occurred_on": values["occurred_on"],
        "sources": [],
    }
    if values["source_url"] or values["source_title"]:
        source = {"url": values["source_url"] or None, "title": values["source_title"] or None}
        raw["sources"] = [{key: value for key, value in source.items() if value}]
    for field in ("detected_on", "actions_taken"):
        if values[field]:
            raw[field] = values[field]
    for field in ("people_affected", "deaths", "injuries"):
        number = _number(values[field])
        if number is not None:
            raw[field] = number
    # The API's required fields stay absent when left empty, so that its error names them.
    for field in ("title", "summary", "event_type", "severity", "occurred_on"):
        if raw[field] == "":
            del raw[field]
    if ai_system["name"] == "":
        del ai_system["name"]
    return raw


def raw_create(values: Mapping[str, Any], taxonomy: Taxonomy, status: str) -> dict[str, Any]:
    raw = raw_content(values, taxonomy)
    raw["status"] = status
    if values["sharing"]:
        raw["sharing"] = values["sharing"]
    if values["incident"]:
        raw["incident"] = values["incident"]
    return raw


def raw_patch(
    values: Mapping[str, Any], taxonomy: Taxonomy, current: schemas.Report
) -> dict[str, Any]:
    """A correction replacing what the form shows; harms and sources beyond the first, which the
    form does not show, are kept as they are."""
    raw = raw_content(values, taxonomy)
    if raw["harms"] and len(current.harms) > 1:
        raw["harms"] += msgspec.to_builtins(current.harms[1:])
    if len(current.sources) > 1:
        raw["sources"] += msgspec.to_builtins(current.sources[1:])
    if values["sharing"]:
        raw["sharing"] = values["sharing"]
    proposed = current.proposed_incident.ref if current.proposed_incident else ""
    if values["incident"] != proposed:
        raw["incident"] = values["incident"] or None
    return raw
