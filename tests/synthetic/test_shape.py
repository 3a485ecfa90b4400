"""The shape of a large synthetic registry: where it reports from, where harm happens, and how the
reports of one incident disagree, within stated bounds, for more than one seed."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import msgspec
import pytest

from incidents.errors import Conflict
from incidents.paths import taxonomy_dir
from incidents.synthetic.generate import sample
from incidents.taxonomy.files import read_directory
from incidents.taxonomy.schemas import TaxonomyDocument
from incidents.taxonomy.service import Taxonomy

REPORTS = 40_000
END = date(2026, 9, 30)

Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy(read_directory(taxonomy_dir()))


@pytest.fixture(scope="module", params=[1, 2])
def rows(request: pytest.FixtureRequest, taxonomy: Taxonomy) -> Rows:
    return sample(taxonomy, reports_wanted=REPORTS, seed=request.param, end=END)


def _several(rows: Rows) -> list[Rows]:
    """The incidents with more than one report."""
    by_incident: dict[Any, Rows] = {}
    for row in rows:
        by_incident.setdefault(row["incident_id"], []).append(row)
    return [group for group in by_incident.values() if len(group) > 1]


def _share_disagreeing(groups: list[Rows], column: str) -> float:
    return sum(1 for group in groups if len({_key(row[column]) for row in group}) > 1) / len(groups)


def _key(value: Any) -> Any:
    if isinstance(value, date):
        return value.year, (value.month - 1) // 3  # the quarter
    return tuple(value) if isinstance(value, list) else value


def test_about_a_third_of_reports_belong_to_incidents_reported_several_times(rows: Rows) -> None:
    several = _several(rows)
    assert 0.2 < sum(len(group) for group in several) / len(rows) < 0.45


def test_later_reports_disagree_on_severity_mostly_by_one_step(rows: Rows) -> None:
    several = _several(rows)
    assert 0.2 < _share_disagreeing(several, "severity") < 0.45
    spreads = Counter(
        max(row["severity_ordinal"] for row in group)
        - min(row["severity_ordinal"] for row in group)
        for group in several
    )
    disagreeing = sum(count for spread, count in spreads.items() if spread)
    assert spreads[1] / disagreeing > 0.8
    # A report that calls the event a hazard says nobody was harmed, whatever the others say.
    for group in several:
        for row in group:
            if row["event_type"] == "hazard":
                assert (row["deaths"], row["injuries"], row["eu_categories"]) == (0, 0, [])


def test_later_reports_disagree_on_date_quarter_precision_and_countries(rows: Rows) -> None:
    several = _several(rows)
    assert 0.05 < _share_disagreeing(several, "occurred_on") < 0.2
    assert 0.15 < _share_disagreeing(several, "occurred_precision") < 0.4
    assert 0.2 < _share_disagreeing(several, "affected_jurisdictions") < 0.5
    precision = Counter(row["occurred_precision"] for row in rows)
    assert 0.02 < precision["year"] / len(rows) < 0.06
    assert 0.07 < precision["month"] / len(rows) < 0.13


def test_some_regulators_report_events_that_affected_other_countries(rows: Rows) -> None:
    abroad = [
        row for row in rows if row["reporting_jurisdiction"] not in row["affected_jurisdictions"]
    ]
    assert 0.05 < len(abroad) / len(rows) < 0.12
    assert len({row["reporting_jurisdiction"] for row in abroad}) >= 20
    assert all(row["reporting_jurisdiction"] in row["jurisdictions"] for row in abroad)


def _reporting_and_affected(rows: Rows) -> tuple[Counter[str], Counter[str]]:
    """Reports per reporting jurisdiction; reports naming each affected jurisdiction."""
    reporting = Counter(row["reporting_jurisdiction"] for row in rows)
    affected = Counter(code for row in rows for code in row["affected_jurisdictions"])
    return reporting, affected


def test_busiest_jurisdictions_are_populous_or_major_economies(
    rows: Rows, taxonomy: Taxonomy
) -> None:
    reporting, affected = _reporting_and_affected(rows)
    for counts in (reporting, affected):
        for code, _ in counts.most_common(10):
            country = taxonomy.countries[code]
            major = country.oecd_member or country.g20_member or country.eu_member
            assert major or (country.population or 0) > 50_000_000, code
    top_five = sum(count for _, count in reporting.most_common(5))
    assert top_five / len(rows) > 0.35, "a few jurisdictions file most reports"


def test_the_global_south_is_well_represented_and_tiny_territories_are_rare(
    rows: Rows, taxonomy: Taxonomy
) -> None:
    for counts in _reporting_and_affected(rows):
        total = sum(counts.values())
        south = sum(n for code, n in counts.items() if taxonomy.countries[code].global_south)
        assert south / total > 0.5
        developing = {
            code for code in counts if taxonomy.countries[code].development == "developing"
        }
        assert len(developing) >= 40
        tiny = sum(
            n for code, n in counts.items() if (taxonomy.countries[code].population or 0) < 100_000
        )
        assert tiny / total < 0.002
        assert all(taxonomy.countries[code].inhabited for code in counts)


def test_cross_border_pairs_are_mostly_neighbours(rows: Rows, taxonomy: Taxonomy) -> None:
    by_incident: dict[Any, set[str]] = {}
    for row in rows:
        by_incident.setdefault(row["incident_id"], set()).update(row["affected_jurisdictions"])
    cross = [countries for countries in by_incident.values() if len(countries) > 1]
    assert 0.1 < len(cross) / len(by_incident) < 0.3
    pairs = Counter(
        (first, second)
        for countries in cross
        for first in countries
        for second in countries
        if first < second
    )
    top = [pair for pair, _ in pairs.most_common(10)]
    same_region = [
        pair
        for pair in top
        if taxonomy.countries[pair[0]].region == taxonomy.countries[pair[1]].region
    ]
    assert len(same_region) >= 6, top


def test_a_taxonomy_without_population_figures_is_refused_with_the_reason(
    taxonomy: Taxonomy,
) -> None:
    document = msgspec.to_builtins(taxonomy.document)
    for country in document["geography"]:
        del country["population"], country["inhabited"]
    old = Taxonomy(msgspec.convert(document, TaxonomyDocument, strict=False))
    with pytest.raises(Conflict, match="no population figures"):
        sample(old, reports_wanted=100, end=END)
