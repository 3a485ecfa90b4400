"""The AI Incident Database snapshot, as downloaded: incidents.csv, joined with the MIT
classifications and, where present, CSET v1 (country, sector, harmed groups, autonomy, lives).

Each AIID incident becomes one report (and incident) of a source organization, with the AIID
incident id as its external reference, so that re-importing a snapshot is idempotent. Labels go
through the taxonomy's crosswalks; what they do not know is counted and left unclassified.
The constants (sharing, status, default severity...) are data, in aiid.toml.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from incidents.importers.mapping import FieldSpec, Mapping
from incidents.importers.records import Problem, Record, Summary, count_unmapped
from incidents.importers.translate import Translator

INCIDENTS = "incidents.csv"
MIT = "classifications_MIT.csv"
CSET = "classifications_CSETv1.csv"


class AiidRules(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    organization: str
    source_url: str
    defaults: dict[str, str]
    serious_severity: str
    """The severity of an incident in which people died or were injured."""
    hazard_severity: str
    hazard_when: list[str]
    """CSET "Tangible Harm" values meaning nothing happened yet (a near miss or an issue)."""
    death_harm_type: str
    injury_harm_type: str


def rules() -> AiidRules:
    text = resources.files("incidents.importers").joinpath("aiid.toml").read_text("utf-8")
    return msgspec.convert(tomllib.loads(text), AiidRules)


def _by_incident(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found: dict[str, dict[str, str]] = {}
    # Published classifications win over drafts of the same incident.
    for row in sorted(rows, key=lambda item: item.get("Published", "") == "True"):
        found[row["Incident ID"]] = row
    return found


def _humanize(slug: str) -> str:
    return " ".join(part.capitalize() for part in slug.replace("_", "-").split("-") if part)


def read_snapshot(
    directory: Path, taxonomy: Any, summary: Summary
) -> Iterator[tuple[Record, list[Problem]]]:
    if not (directory / INCIDENTS).exists():
        raise FileNotFoundError(f"{directory / INCIDENTS} not found: is this an AIID snapshot?")
    settings = rules()
    mit = _by_incident(directory / MIT)
    cset = _by_incident(directory / CSET)
    mapping = Mapping(
        organization=settings.organization,
        on_unmapped="unclassified",
        complete=False,
        defaults=settings.defaults,
        fields={},
    )
    translator = Translator(mapping, taxonomy, summary)
    specs = {
        "harm_domain": FieldSpec(column="Risk Subdomain", crosswalk="mit_risk_domain"),
        "domain_only": FieldSpec(column="Risk Domain", crosswalk="mit_risk_domain"),
        "causal_entity": FieldSpec(column="Entity", crosswalk="mit_causal_entity"),
        "causal_intent": FieldSpec(column="Intent", crosswalk="mit_causal_intent"),
        "causal_timing": FieldSpec(column="Timing", crosswalk="mit_causal_timing"),
        "sector": FieldSpec(column="Sector of Deployment", crosswalk="cset_v1_sector", split=","),
        "affected_group": FieldSpec(
            column="Harm Distribution Basis", crosswalk="cset_v1_harm_basis", split=","
        ),
        "autonomy_level": FieldSpec(column="Autonomy Level", crosswalk="cset_v1_autonomy"),
        "affected_jurisdiction": FieldSpec(column="Location Country (two letters)"),
    }
    with (directory / INCIDENTS).open(encoding="utf-8", newline="") as handle:
        for row, source in enumerate(csv.DictReader(handle), start=1):
            summary.read += 1
            problems: list[Problem] = []
            number = source["incident_id"].strip()
            values: dict[str, Any] = dict(settings.defaults)
            columns = {
                "title": "title",
                "summary": "description",
                "occurred_on": "date",
                "external_ref": "incident_id",
            }
            values.update(
                {
                    "title": source["title"],
                    "summary": source["description"] or source["title"],
                    "occurred_on": source["date"],
                    "external_ref": f"AIID-{number}",
                    "source_url": [settings.source_url.format(id=number)],
                }
            )
            for field, column in (
                ("developer", "Alleged developer of AI system"),
                ("deployer", "Alleged deployer of AI system"),
            ):
                names = _json_list(source.get(column, ""))
                if names:
                    values[field] = ", ".join(_humanize(name) for name in names)[:200]
            classification = mit.get(number)
            if classification is None:
                summary.unmapped["harm_domain (no MIT classification)"] = (
                    summary.unmapped.get("harm_domain (no MIT classification)", 0) + 1
                )
            else:
                domains = translator.cell(
                    row,
                    "harm_domain",
                    specs["harm_domain"],
                    classification["Risk Subdomain"],
                    problems,
                )
                if not domains:
                    domains = translator.cell(
                        row,
                        "harm_domain",
                        specs["domain_only"],
                        classification["Risk Domain"],
                        problems,
                    )
                values["harm_domain"] = domains or []
                for field in ("causal_entity", "causal_intent", "causal_timing"):
                    found = translator.cell(
                        row,
                        field,
                        specs[field],
                        classification[specs[field].column or ""],
                        problems,
                    )
                    if found:
                        values[field] = found
            extra = cset.get(number)
            if extra is not None:
                for field in (
                    "sector",
                    "affected_group",
                    "affected_jurisdiction",
                    "autonomy_level",
                ):
                    spec = specs[field]
                    found = translator.cell(
                        row, field, spec, extra.get(spec.column or "", ""), problems
                    )
                    if found:
                        values[field] = found
                _harm_from_cset(values, extra, settings)
            if values.get("harm_type") and not values.get("harm_domain"):
                # A harm needs its domain; without an MIT classification the type is counted.
                count_unmapped(summary, "harm_type (no harm domain)", len(values.pop("harm_type")))
            yield Record(row=row, values=values, columns=columns), problems


def _harm_from_cset(values: dict[str, Any], extra: dict[str, str], settings: AiidRules) -> None:
    deaths = _count(extra.get("Lives Lost", ""))
    injuries = _count(extra.get("Injuries", ""))
    values["deaths"], values["injuries"] = deaths, injuries
    if extra.get("Tangible Harm", "").strip() in settings.hazard_when:
        values["event_type"] = "hazard"
        values["severity"] = settings.hazard_severity
        values["deaths"] = values["injuries"] = None
        return
    # Both harms when both happened; either one makes the incident serious.
    harm_types = []
    if deaths:
        harm_types.append(settings.death_harm_type)
    if injuries:
        harm_types.append(settings.injury_harm_type)
    if harm_types:
        values["severity"] = settings.serious_severity
        values["harm_type"] = harm_types


def _json_list(cell: str) -> list[str]:
    try:
        found = msgspec.json.decode(cell or "[]")
    except msgspec.DecodeError:
        return []
    return [str(item) for item in found] if isinstance(found, list) else []


def _count(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None
