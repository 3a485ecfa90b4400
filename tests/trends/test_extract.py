"""A trend reads only the columns its dimensions need, and counts exactly as from a full read."""

from __future__ import annotations

from datetime import date

import pytest
from polars.testing import assert_frame_equal

from incidents.reports.filters import Filters
from incidents.trends import extract, service
from incidents.trends.periods import window
from tests.trends.conftest import Registry


@pytest.mark.parametrize("dimension", sorted(extract.DIMENSION_COLUMNS))
@pytest.mark.parametrize("audience", ["secretariat", "public"])
async def test_a_narrow_read_counts_what_a_full_read_counts(
    registry: Registry, dimension: str, audience: service.Audience
) -> None:
    filters = Filters(sharing=("TLP:CLEAR", "TLP:GREEN"))  # one filter: its variant is read too
    span = window("quarter", date(2025, 1, 1), date(2026, 7, 1))
    narrow = await service.load(registry.url, audience, filters, registry.taxonomy, by=[dimension])
    full = await service.load(registry.url, audience, filters, registry.taxonomy)
    read = narrow.frame.collect_schema().names()
    assert set(extract.DIMENSION_COLUMNS[dimension]) <= set(read)
    expected = service.table(full, [dimension], span, k=5)
    found = service.table(narrow, [dimension], span, k=5)
    assert found.suppressed == expected.suppressed
    assert_frame_equal(found.cells, expected.cells)
    assert_frame_equal(found.totals, expected.totals)


def test_only_the_named_columns_are_selected() -> None:
    query = extract.report_rows(["accepted"], [], only=extract.columns_for(["harm_domain"]))
    assert [column.name for column in query.selected_columns] == [
        "incident",
        "harm_domains",
        "occurred_on",
    ]
