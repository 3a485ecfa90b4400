"""The shape of a synthetic registry, decided once per seed: who reports how much, where harm
happens, with which AI systems, and how the mix of harms drifts over time (rows: generate.py)."""

from __future__ import annotations

import bisect
import itertools
import math
import random
import tomllib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import Any, Literal

import msgspec

from incidents.errors import Conflict
from incidents.taxonomy.geography import Country
from incidents.taxonomy.service import Taxonomy

Membership = Literal["un_member", "oecd_member", "g20_member", "eu_member"]


class GeographyShape(msgspec.Struct, forbid_unknown_fields=True):
    """Who reports and who is affected (see vocabulary.toml for the meaning of each number)."""

    reporting_exponent: float
    reporting_multipliers: dict[Membership, float]
    exposure_exponent: float
    exposure_multipliers: dict[Membership, float]
    jitter: float
    membership_floor: float
    membership_ceiling: float
    cross_border: float
    neighbours: float
    foreign_reporter: float
    co_reporter: float
    bystander: float
    second_regulator: float


class Disagreement(msgspec.Struct, forbid_unknown_fields=True):
    """How often a later report of an incident differs from the first (vocabulary.toml)."""

    severity_one_step: float
    severity_two_steps: float
    occurred_shift: float
    occurred_shift_median_days: float
    occurred_shift_max_days: int
    countries: float
    year_precision: float
    month_precision: float


class Vocabulary(msgspec.Struct, forbid_unknown_fields=True):
    geography: GeographyShape
    disagreement: Disagreement
    severity_weights: list[float]
    hazard_ranks: int
    emerging_domains: list[str]
    status_weights: dict[str, float]
    sharing_weights: dict[str, float]
    languages: dict[str, dict[str, float]]
    harm_nouns: dict[str, list[str]]
    harm_verbs: dict[str, list[str]]
    templates: dict[str, list[str]]
    summaries: dict[str, str]
    words: dict[str, list[str]]


def vocabulary() -> Vocabulary:
    data = resources.files("incidents.synthetic").joinpath("vocabulary.toml").read_text("utf-8")
    return msgspec.convert(tomllib.loads(data), Vocabulary)


class Weighted:
    """Constant-time weighted picks from a seeded generator."""

    def __init__(self, items: Sequence[Any], weights: Sequence[float]) -> None:
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.total)]


def _zipf(count: int, exponent: float) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(count)]


def seeded_uuid(rng: random.Random, at: datetime) -> uuid.UUID:
    """A UUIDv7 whose time is the record's own and whose randomness comes from the seed."""
    milliseconds = int(at.timestamp() * 1000) & 0xFFFF_FFFF_FFFF
    bits = rng.getrandbits(74)
    value = milliseconds << 80 | 0x7 << 76 | (bits >> 62) << 64 | 0b10 << 62 | (bits & (2**62 - 1))
    return uuid.UUID(int=value)


@dataclass
class Regulator:
    id: uuid.UUID
    name: str
    jurisdiction: str


@dataclass
class Member:
    """A country with member regulators in this registry, and how much it files."""

    code: str
    weight: float
    regulators: int


def _weight(country: Country, exponent: float, multipliers: dict[Membership, float]) -> float:
    weight = math.pow(country.population or 0, exponent)
    for membership, factor in multipliers.items():
        if getattr(country, membership):
            weight *= factor
    return weight


def choose_members(taxonomy: Taxonomy, rng: random.Random, shape: GeographyShape) -> list[Member]:
    """Which countries have member regulators, busiest first, with how much each files.

    Filing follows population and reporting capacity (OECD, G20 and EU membership stand for a
    digital economy with an established data-protection or AI regulator), times a per-seed
    factor, since regulators of similar countries differ in how much they file. Every country
    with that capacity is a member; others join with a chance that grows with their population.
    """
    inhabited = sorted(code for code, country in taxonomy.countries.items() if country.inhabited)
    if not inhabited:
        raise Conflict(
            f"Taxonomy version {taxonomy.version} has no population figures to shape a "
            "synthetic registry; load a taxonomy whose geography.csv has them"
        )
    chosen = []
    for code in inhabited:
        country = taxonomy.countries[code]
        # Drawn for every country, so that one country's membership never shifts another's.
        factor = rng.lognormvariate(0, shape.jitter)
        joins = rng.random()
        capable = any(getattr(country, membership) for membership in shape.reporting_multipliers)
        # From the floor at 10,000 people to the ceiling at 100 million.
        chance = math.log10(max(country.population or 1, 1)) / 4 - 1
        chance = min(shape.membership_ceiling, max(shape.membership_floor, chance))
        if capable or joins < chance:
            weight = _weight(country, shape.reporting_exponent, shape.reporting_multipliers)
            chosen.append((weight * factor, code))
    chosen.sort(reverse=True)
    return [
        Member(code, weight, 3 if rank < 5 else 2 if rank < 12 else 1)
        for rank, (weight, code) in enumerate(chosen)
    ]


@dataclass
class System:
    name: str
    developer: str
    deployer: str
    system_type: str
    tasks: list[str]
    lifecycle_stage: str
    autonomy_level: str


@dataclass
class World:
    """Everything decided once per seed: who reports how much, which systems, which risks."""

    taxonomy: Taxonomy
    words: Vocabulary
    start: date
    end: date
    reporting: Weighted
    regulators: dict[str, list[Regulator]]
    exposure: Weighted
    nearby: dict[str, Weighted]
    systems: Weighted
    domains_by_quarter: list[Weighted]
    harm_types: dict[str, list[str]]
    groups: list[str]
    sectors: Weighted
    severities: list[str]
    severity_pick: Weighted
    eu_categories: list[str]
    causal: dict[str, Weighted]
    statuses: Weighted
    sharing: Weighted
    languages: dict[str, Weighted]
    quarters: int = field(init=False)

    def __post_init__(self) -> None:
        self.quarters = len(self.domains_by_quarter)


def _live(taxonomy: Taxonomy, dimension: str) -> list[str]:
    found = taxonomy.dimensions[dimension]
    return sorted(found.live)


def _leaves(taxonomy: Taxonomy, dimension: str) -> list[str]:
    found = taxonomy.dimensions[dimension]
    parents = {entry.parent for entry in found.codes.values() if entry.parent}
    return sorted(code for code in found.live if code not in parents)


def plan(
    taxonomy: Taxonomy,
    rng: random.Random,
    members: list[Member],
    regulators: dict[str, list[Regulator]],
    start: date,
    end: date,
) -> World:
    words = vocabulary()
    shape = words.geography
    reporting = Weighted([member.code for member in members], [member.weight for member in members])
    # Where harm happens: anywhere people live, more where AI is deployed at scale.
    inhabited = sorted(code for code, country in taxonomy.countries.items() if country.inhabited)
    exposure_of = {
        code: _weight(taxonomy.countries[code], shape.exposure_exponent, shape.exposure_multipliers)
        for code in inhabited
    }
    by_sub_region: dict[str, list[str]] = {}
    for code in inhabited:
        by_sub_region.setdefault(taxonomy.countries[code].sub_region, []).append(code)
    nearby = {
        sub_region: Weighted(codes, [exposure_of[code] for code in codes])
        for sub_region, codes in by_sub_region.items()
    }

    systems = []
    prefixes, suffixes = words.words["system_prefixes"], words.words["system_suffixes"]
    developers = [
        f"{root} {kind}"
        for root in words.words["developer_roots"]
        for kind in words.words["developer_kinds"]
    ]
    system_types, tasks = _live(taxonomy, "ai_system_type"), _live(taxonomy, "ai_task")
    stages, autonomy = _live(taxonomy, "lifecycle_stage"), _live(taxonomy, "autonomy_level")
    for prefix, suffix in itertools.product(prefixes, suffixes):
        systems.append(
            System(
                name=f"{prefix} {suffix}",
                developer=rng.choice(developers),
                deployer=rng.choice(words.words["deployers"]),
                system_type=rng.choice(system_types),
                tasks=sorted(rng.sample(tasks, rng.choice((1, 1, 2)))),
                lifecycle_stage=rng.choice(stages),
                autonomy_level=rng.choice(autonomy),
            )
        )
    rng.shuffle(systems)

    subdomains = _leaves(taxonomy, "harm_domain")
    base = dict(
        zip(rng.sample(subdomains, len(subdomains)), _zipf(len(subdomains), 0.9), strict=True)
    )
    emerging = [code for code in words.emerging_domains if code in base]
    span = (end - start).days
    quarters = max(1, math.ceil(span / 91.3))
    domains_by_quarter = []
    for quarter in range(quarters):
        position = (quarter + 0.5) / quarters
        rise = max(0.0, (position - 0.75) / 0.25)
        weights = [base[code] * (1 + 8 * rise**2 if code in emerging else 1) for code in base]
        domains_by_quarter.append(Weighted(list(base), weights))

    live_harm_types = _live(taxonomy, "harm_type")
    harm_types = {root: rng.sample(live_harm_types, 2) for root in _live(taxonomy, "harm_domain")}
    severities = sorted(
        taxonomy.dimensions["severity"].live,
        key=lambda code: taxonomy.dimensions["severity"].ordinal(code) or 0,
    )
    weights = (words.severity_weights + [words.severity_weights[-1]] * len(severities))[
        : len(severities)
    ]
    causal = {}
    for name in ("causal_entity", "causal_intent", "causal_timing"):
        codes = _live(taxonomy, name)
        rng.shuffle(codes)
        causal[name] = Weighted(codes, _zipf(len(codes), 1.5))
    sectors = _live(taxonomy, "sector")
    rng.shuffle(sectors)
    return World(
        taxonomy=taxonomy,
        words=words,
        start=start,
        end=end,
        reporting=reporting,
        regulators=regulators,
        exposure=Weighted(inhabited, [exposure_of[code] for code in inhabited]),
        nearby=nearby,
        systems=Weighted(systems, _zipf(len(systems), 0.8)),
        domains_by_quarter=domains_by_quarter,
        harm_types=harm_types,
        groups=_leaves(taxonomy, "affected_group"),
        sectors=Weighted(sectors, _zipf(len(sectors), 0.7)),
        severities=severities,
        severity_pick=Weighted(severities, weights),
        eu_categories=_live(taxonomy, "eu_serious_incident"),
        causal=causal,
        statuses=Weighted(list(words.status_weights), list(words.status_weights.values())),
        sharing=Weighted(list(words.sharing_weights), list(words.sharing_weights.values())),
        languages={
            region: Weighted(list(share), list(share.values()))
            for region, share in words.languages.items()
        },
    )


def label(taxonomy: Taxonomy, dimension: str, code: str) -> str:
    return taxonomy.dimensions[dimension].label(code).lower()
