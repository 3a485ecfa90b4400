"""Geography is derived from maintained libraries, complete, and gives a Global South lens."""

from __future__ import annotations

from incidents.paths import taxonomy_dir
from incidents.taxonomy.geography import FILE_NAME, build_rows, read_csv, to_csv


def test_the_shipped_table_is_exactly_what_the_libraries_give() -> None:
    shipped = (taxonomy_dir() / FILE_NAME).read_text(encoding="utf-8")
    assert shipped == to_csv(build_rows()), "run `incidents taxonomy geography --write taxonomy`"


def test_every_country_has_a_region_and_grouping_except_antarctica() -> None:
    countries = {country.code: country for country in read_csv(taxonomy_dir() / FILE_NAME)}
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
