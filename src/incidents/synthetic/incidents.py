"""Synthetic incidents one at a time, with their reports, as the rows the writer defines: the hot
path of generation (a million reports in seconds), so each report's content is assembled as the
plain JSON value the API would store and its derived columns computed directly."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import msgspec
from msgspec.structs import astuple

from incidents.audit.service import (
    EventDraft,
)
from incidents.ids import reference
from incidents.reports.integrity import salt_for
from incidents.reports.states import submitted_at
from incidents.reports.writer import (
    ReportRow,
    RevisionRow,
    creation_event,
)
from incidents.synthetic.world import (
    World,
    label,
    seeded_uuid,
)
from incidents.taxonomy.service import Taxonomy


@dataclass
class Rows:
    incidents: list[tuple[Any, ...]] = field(default_factory=list)
    reports: list[tuple[Any, ...]] = field(default_factory=list)
    revisions: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[EventDraft] = field(default_factory=list)


class Generator:
    """Writes incidents one at a time, with their reports, into rows to copy.

    Hot: a million reports must be built in seconds, so each report's content is assembled as
    the plain JSON value the API would store (``msgspec.to_builtins(ReportContent)``), encoded
    once in canonical form (that text is both the stored revision and its hash), and its derived
    columns are computed directly. The tests check both against ReportContent, ``check`` and
    ``derive`` on generated data.
    """

    def __init__(self, world: World, rng: random.Random, now: datetime, actor_label: str) -> None:
        self.world = world
        self.rng = rng
        self.now = now
        self.today = now.date()
        self.actor_label = actor_label
        self.incident_numbers: Iterator[int] = iter(())
        self.report_numbers: Iterator[int] = iter(())
        taxonomy = world.taxonomy
        self.harm_ancestors = _ancestors(taxonomy, "harm_domain")
        self.group_ancestors = _ancestors(taxonomy, "affected_group")
        harm_dimension = taxonomy.dimensions["harm_domain"]
        self.root = {code: harm_dimension.root_of(code) for code in harm_dimension.codes}
        severity = taxonomy.dimensions["severity"]
        self.rank = {code: rank for rank, code in enumerate(world.severities)}
        # By rank: (code, ordinal, event type); the two highest ranks are serious.
        self.severity_of = [
            (
                code,
                severity.ordinal(code),
                "hazard" if rank < world.words.hazard_ranks else "incident",
            )
            for rank, code in enumerate(world.severities)
        ]
        self.serious_from = len(world.severities) - 2
        self.shift_mu = math.log(world.words.disagreement.occurred_shift_median_days)
        self.kind_label = {
            code: label(taxonomy, "ai_system_type", code)
            for code in taxonomy.dimensions["ai_system_type"].codes
        }
        self.sector_label = {
            code: label(taxonomy, "sector", code) for code in taxonomy.dimensions["sector"].codes
        }
        self.country_name = {code: country.name for code, country in taxonomy.countries.items()}
        self.sub_region = {code: country.sub_region for code, country in taxonomy.countries.items()}
        self.language_of = {
            code: world.languages.get(country.region or "Europe", world.languages["Europe"])
            for code, country in taxonomy.countries.items()
        }
        self.span = (world.end - world.start).days

    def chunk(self, reports_wanted: int) -> Rows:
        """The rows of the next incidents, ``reports_wanted`` reports in all (the last incident
        loses the reports beyond)."""
        rows = Rows()
        made = 0
        while made < reports_wanted:
            made += self.incident(rows, reports_wanted - made)
        return rows

    def incident(self, rows: Rows, budget: int) -> int:
        world, rng = self.world, self.rng
        random_ = rng.random
        shape, differ = world.words.geography, world.words.disagreement
        position = math.log1p(random_() * (math.e**1.2 - 1)) / 1.2  # more reports every year
        occurred = world.start + timedelta(days=min(self.span, int(position * self.span)))
        quarter = min(world.quarters - 1, int(position * world.quarters))
        home = world.reporting.pick(rng)
        origin = home if random_() >= shape.foreign_reporter else self._exposed(home)
        countries = [origin]
        if random_() < shape.cross_border:
            for _ in range(1 + int(random_() ** 2 * 4)):
                other = self._near(origin) if random_() < shape.neighbours else self._exposed("")
                if other not in countries:
                    countries.append(other)
        local = world.regulators[home]
        filers = [_one(rng, local)]
        for country in countries:
            if country != home and country in world.regulators and random_() < shape.co_reporter:
                filers.append(_one(rng, world.regulators[country]))
        if len(countries) > 1 and random_() < shape.bystander:
            bystander = world.reporting.pick(rng)
            if bystander != home and bystander not in countries:
                filers.append(_one(rng, world.regulators[bystander]))
        if len(filers) == 1 and len(local) > 1 and random_() < shape.second_regulator:
            filers.append(local[(local.index(filers[0]) + 1) % len(local)])
        del filers[budget:]
        domains = world.domains_by_quarter[quarter]
        subdomains = [domains.pick(rng)]
        if random_() < 0.15:
            second = domains.pick(rng)
            if second != subdomains[0]:
                subdomains.append(second)
        groups = world.groups
        harms = []
        affected_groups: set[str] = set()
        harm_domains: set[str] = set()
        harm_types = set()
        for code in subdomains:
            chosen = [
                groups[int(random_() * len(groups))]
                for _ in range((0, 1, 1, 2)[int(random_() * 4)])
            ]
            chosen = sorted(set(chosen))
            harm_type = _one(rng, world.harm_types[self.root[code]])
            harms.append({"domain": code, "harm_type": harm_type, "affected_groups": chosen})
            harm_domains.update(self.harm_ancestors[code])
            harm_types.add(harm_type)
            for group in chosen:
                affected_groups.update(self.group_ancestors[group])
        rank = self.rank[world.severity_pick.pick(rng)]
        system = world.systems.pick(rng)
        sector = world.sectors.pick(rng)
        people = int(rng.lognormvariate(3.7, 2.0)) + 1
        # The event's own toll; a report that calls it a hazard gives none.
        harmed = rank >= world.words.hazard_ranks
        deaths = (
            int(rng.lognormvariate(0.5, 1.2)) + 1
            if harmed and rank >= self.serious_from and random_() >= 0.7
            else 0
        )
        injuries = int(rng.lognormvariate(1, 1.3)) + 1 if harmed and random_() >= 0.8 else 0
        eu_category = _one(rng, world.eu_categories)
        causal = [
            world.causal[name].pick(rng)
            for name in ("causal_entity", "causal_intent", "causal_timing")
        ]
        incident_id = seeded_uuid(rng, datetime.combine(occurred, time(12), UTC))
        incident_number = next(self.incident_numbers)
        incident_ref = reference("INC", occurred.year, incident_number)
        ai_system = {
            "name": system.name,
            "developer": system.developer,
            "deployer": system.deployer,
            "system_type": system.system_type,
            "tasks": system.tasks,
            "lifecycle_stage": system.lifecycle_stage,
            "autonomy_level": system.autonomy_level,
        }
        affected = sorted(countries)
        words = world.words
        root = self.root[subdomains[0]]
        nouns = words.harm_nouns.get(root, ["harm"])
        verbs = words.harm_verbs.get(root, ["harmed"])
        fill = {
            "system": system.name,
            "developer": system.developer,
            "deployer": system.deployer,
            "kind": self.kind_label[system.system_type],
            "noun": _one(rng, nouns),
            "verb": _one(rng, verbs),
            "group": _one(rng, words.words["groups"]),
            "place": self.country_name[origin],
            "sector": self.sector_label[sector],
            "people": people,
        }
        variant = int(random_() * 1000)
        created: datetime | None = None
        shared_domains = sorted(harm_domains)
        shared_types = sorted(harm_types)
        shared_groups = sorted(affected_groups)
        sectors = [sector]
        for index, filer in enumerate(filers):
            # Later reports see the same event differently (the first report is the reference).
            report_rank, report_date, report_affected = rank, occurred, affected
            if index:
                draw = random_()
                if draw < differ.severity_one_step + differ.severity_two_steps:
                    report_rank = self._step(rank, 1 if draw < differ.severity_one_step else 2)
                if random_() < differ.occurred_shift:
                    shift = 1 + min(
                        differ.occurred_shift_max_days,
                        int(rng.lognormvariate(self.shift_mu, 1.2)),
                    )
                    report_date = occurred + timedelta(days=shift if random_() < 0.5 else -shift)
                    report_date = min(max(report_date, world.start), self.today)
                if random_() < differ.countries:
                    report_affected = self._other_view(countries, filer.jurisdiction)
            draw = random_()
            if draw < differ.year_precision:
                occurred_text, precision = str(report_date.year), "year"
                period_start = report_date.replace(month=1, day=1)
            elif draw < differ.year_precision + differ.month_precision:
                occurred_text, precision = report_date.isoformat()[:7], "month"
                period_start = report_date.replace(day=1)
            else:
                occurred_text, precision = report_date.isoformat(), "day"
                period_start = report_date
            severity, ordinal, event_type = self.severity_of[report_rank]
            hazard = event_type == "hazard"
            eu = [eu_category] if not hazard and report_rank >= self.serious_from else []
            language = self.language_of[filer.jurisdiction].pick(rng)
            templates = words.templates.get(language) or words.templates["en"]
            title = templates[(variant + index) % len(templates)].format(**fill)[:300]
            summary = (words.summaries.get(language) or words.summaries["en"]).format(**fill)
            detected = min(
                report_date + timedelta(days=min(365, int(rng.lognormvariate(1.1, 1.2)))),
                self.today,
            )
            detected = max(detected, period_start)
            delay = min(400, int(rng.lognormvariate(1.8 + 0.4 * index, 1.0)))
            submitted = min(
                datetime.combine(
                    detected + timedelta(days=delay),
                    time(7 + int(random_() * 12), int(random_() * 60)),
                    UTC,
                ),
                self.now - timedelta(minutes=5 + int(random_() * 600)),
            )
            status = world.statuses.pick(rng)
            reviewed = None
            if status == "accepted" or status == "rejected":
                reviewed = min(submitted + timedelta(days=1 + int(random_() * 19)), self.now)
            sharing = world.sharing.pick(rng)
            report_deaths = 0 if hazard else deaths
            report_injuries = 0 if hazard else injuries
            content = {
                "title": title,
                "summary": summary,
                "language": language,
                "event_type": event_type,
                "severity": severity,
                "eu_serious_incident": eu,
                "harms": harms,
                "causal_entity": causal[0],
                "causal_intent": causal[1],
                "causal_timing": causal[2],
                "ai_system": ai_system,
                "sectors": sectors,
                "affected_jurisdictions": report_affected,
                "occurred_on": occurred_text,
                "detected_on": detected.isoformat(),
                "people_affected": people,
                "deaths": report_deaths,
                "injuries": report_injuries,
                "sources": [
                    {
                        "url": f"https://news.example.org/{incident_number}/{index}",
                        "reference": None,
                        "title": None,
                    }
                ],
                "actions_taken": None,
            }
            canonical = _canonical.encode(content)
            salt = salt_for(status)
            report_id = seeded_uuid(rng, submitted)
            number = next(self.report_numbers)
            jurisdictions = (
                report_affected
                if filer.jurisdiction in report_affected
                else sorted([*report_affected, filer.jurisdiction])
            )
            row = ReportRow(
                id=report_id,
                number=number,
                year=submitted.year,
                incident_id=incident_id,
                organization_id=filer.id,
                status=status,
                status_reason=REJECTION if status == "rejected" else None,
                sharing=sharing,
                revision=1,
                taxonomy_version=world.taxonomy.version,
                external_ref=None,
                created_at=submitted,
                updated_at=reviewed or submitted,
                submitted_at=submitted_at(status, submitted),
                reviewed_at=reviewed,
                title=title,
                summary=summary,
                language=language,
                event_type=event_type,
                severity=severity,
                severity_ordinal=ordinal,
                eu_categories=eu,
                harm_domains=shared_domains,
                harm_types=shared_types,
                affected_groups=shared_groups,
                sectors=sectors,
                causal_entity=causal[0],
                causal_intent=causal[1],
                causal_timing=causal[2],
                system_type=system.system_type,
                ai_tasks=system.tasks,
                lifecycle_stage=system.lifecycle_stage,
                autonomy_level=system.autonomy_level,
                ai_system_name=system.name,
                developer=system.developer,
                deployer=system.deployer,
                reporting_jurisdiction=filer.jurisdiction,
                affected_jurisdictions=report_affected,
                jurisdictions=jurisdictions,
                occurred_on=period_start,
                occurred_precision=precision,
                detected_on=detected,
                people_affected=people,
                deaths=report_deaths,
                injuries=report_injuries,
            )
            rows.reports.append(astuple(row))
            rows.revisions.append(
                astuple(
                    RevisionRow(
                        report_id=report_id,
                        revision=1,
                        content=canonical.decode(),
                        sharing=sharing,
                        taxonomy_version=world.taxonomy.version,
                        created_at=submitted,
                        actor_org_id=filer.id,
                        actor_key_id=None,
                        actor_label=f"{filer.name} ({self.actor_label})",
                        salt=salt,
                    )
                )
            )
            rows.events.append(
                creation_event(
                    row,
                    reference("RPT", submitted.year, number),
                    incident_ref,
                    hashlib.sha256((salt or b"") + canonical).hexdigest(),
                    title,
                    "report.imported",
                )
            )
            created = submitted if created is None or submitted < created else created
        rows.incidents.append((incident_id, incident_number, occurred.year, created))
        return len(filers)

    def _exposed(self, besides: str) -> str:
        """An affected country drawn from where harm happens, other than ``besides``."""
        while (found := self.world.exposure.pick(self.rng)) == besides:
            pass
        return str(found)

    def _near(self, origin: str) -> str:
        """A country of the same M49 sub-region (the origin itself when it stands alone)."""
        return str(self.world.nearby[self.sub_region[origin]].pick(self.rng))

    def _step(self, rank: int, steps: int) -> int:
        """A severity ``steps`` up or down the ladder from ``rank``, staying on it."""
        up = self.rng.random() < 0.5
        moved = rank + steps if up else rank - steps
        if not 0 <= moved < len(self.severity_of):
            moved = rank - steps if up else rank + steps
        return min(max(moved, 0), len(self.severity_of) - 1)

    def _other_view(self, countries: list[str], own: str) -> list[str]:
        """The affected countries as one regulator sees them: only its own (or the first) of
        several, or one more from the same part of the world."""
        if len(countries) > 1 and self.rng.random() < 0.5:
            return [own if own in countries else countries[0]]
        extra = self._near(countries[0])
        if extra in countries:
            extra = self._exposed("")
        return sorted({*countries, extra})


_canonical = msgspec.json.Encoder(order="sorted")


REJECTION = "Insufficient evidence that an AI system was involved"


def _one(rng: random.Random, items: Sequence[Any]) -> Any:
    return items[int(rng.random() * len(items))]


def _ancestors(taxonomy: Taxonomy, dimension: str) -> dict[str, list[str]]:
    codes = taxonomy.dimensions[dimension].codes
    found = {}
    for code in codes:
        chain = [code]
        parent = codes[code].parent
        while parent is not None:
            chain.append(parent)
            parent = codes[parent].parent
        found[code] = chain
    return found
