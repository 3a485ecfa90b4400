"""Geography is derived from maintained libraries, complete, and gives a Global South lens."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from incidents.paths import taxonomy_dir
from incidents.taxonomy.files import TaxonomyInvalid, read_directory
from incidents.taxonomy.geography import (
    ADDED_COLUMNS,
    FILE_NAME,
    Country,
    build_rows,
    read_csv,
    to_csv,
)
from incidents.taxonomy.schemas import TaxonomyDocument
from tests.taxonomy.helpers import copy_shipped, edit


def _shipped() -> dict[str, Country]:
    return {country.code: country for country in read_csv(taxonomy_dir() / FILE_NAME)}


def test_the_shipped_table_is_exactly_what_the_libraries_give() -> None:
    shipped = (taxonomy_dir() / FILE_NAME).read_text(encoding="utf-8")
    assert shipped == to_csv(build_rows()), "run `incidents taxonomy geography --write taxonomy`"


def test_every_country_has_a_region_and_grouping_except_antarctica() -> None:
    countries = _shipped()
    assert len(countries) == 249
    without_region = {code for code, country in countries.items() if not country.region}
    assert without_region == {"AQ"}
    kenya, norway, japan, brazil = (countries[c] for c in ("KE", "NO", "JP", "BR"))
    assert (kenya.region, kenya.sub_region, kenya.intermediate_region) == (
        "Africa",
        "Sub-Saharan Africa",
        "Eastern Africa",
    )
    assert kenya.global_south
    assert brazil.global_south
    assert brazil.sub_region == "Latin America and the Caribbean"
    assert not norway.global_south
    assert not japan.global_south
    assert countries["NA"].name == "Namibia"  # "NA" must not read as a missing value


def test_populations_put_the_populous_countries_first_and_mark_the_uninhabited() -> None:
    countries = _shipped()
    by_population = sorted(countries.values(), key=lambda c: c.population or 0, reverse=True)
    assert {country.code for country in by_population[:8]} >= {"CN", "IN", "US", "ID", "BR"}
    assert all(c.population and c.population > 1_000_000_000 for c in by_population[:2])
    assert 40_000_000 < (countries["KE"].population or 0) < 70_000_000
    assert (countries["CX"].population or 0) < 10_000
    assert {code for code, c in countries.items() if not c.inhabited} == {"AQ", "BV", "HM", "UM"}
    assert all(c.inhabited for c in countries.values() if c.population and c.region)


def test_memberships_are_the_real_ones() -> None:
    countries = _shipped()

    def members(flag: str) -> set[str]:
        return {code for code, country in countries.items() if getattr(country, flag)}

    assert len(members("un_member")) == 193
    assert members("un_member") <= members("inhabited")
    assert "PS" not in members("un_member")  # an observer state, still an inhabited area
    assert "PS" in members("inhabited")
    assert len(members("oecd_member")) == 38
    assert len(members("eu_member")) == 27
    # The G20's members in their own right: the EU's member states other than France, Germany
    # and Italy are not listed although the EU belongs.
    assert len(members("g20_member")) == 19
    assert {"IN", "CN", "BR", "ZA", "ID", "FR", "DE", "IT"} <= members("g20_member")
    assert "MT" not in members("g20_member")


def test_a_version_stored_before_the_population_columns_still_loads() -> None:
    document = msgspec.to_builtins(read_directory(taxonomy_dir()))
    for country in document["geography"]:
        for column in ADDED_COLUMNS:
            del country[column]
    old = msgspec.convert(document, TaxonomyDocument, strict=False)
    kenya = next(country for country in old.geography if country.code == "KE")
    assert kenya.population is None
    assert kenya.region == "Africa"


GEOGRAPHY_DEFECTS = [
    # (old text, new text, code the problem names or None, words in the reason)
    (",51393010,true,", ",-5,true,", None, "line 116 (KE): Expected `int` >= 0"),
    (",51393010,true,", ",many,true,", None, "line 116 (KE): Expected `int | null`, got `str`"),
    (",51393010,true,true,", ",51393010,yes,true,", None, "inhabited: 'yes' is not true or"),
    (",51393010,true,", ",0,true,", "KE", "inhabited must be true exactly"),
    (",false,0,false,false,", ",false,0,false,true,", "AQ", "un_member is true for an area"),
    (",eu_member\n", "\n", None, "missing eu_member"),
]


@pytest.mark.parametrize(("old", "new", "code", "reason"), GEOGRAPHY_DEFECTS)
def test_a_defect_in_the_geography_table_is_named(
    tmp_path: Path, old: str, new: str, code: str | None, reason: str
) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    edit(directory / FILE_NAME, old, new)
    with pytest.raises(TaxonomyInvalid) as raised:
        read_directory(directory)
    matching = [
        problem
        for problem in raised.value.problems
        if problem.file == FILE_NAME and reason in problem.reason
    ]
    assert matching, raised.value.problems
    if code is not None:
        assert {problem.code for problem in matching} == {code}
