"""Which reports an aggregate counts: all accepted reports along coarse dimensions, only the
caller's visible reports once a filter addresses records or unites values."""

from __future__ import annotations

import uuid

import pytest

from incidents.reports.filters import Filters
from incidents.reports.states import Sharing, Status
from incidents.trends.population import split


def test_coarse_single_values_count_every_accepted_report() -> None:
    scope = split(
        Filters(
            jurisdiction=("KE",),
            region=("Africa",),
            codes=(("sector", ("K",)), ("harm_domain", ("1",))),
            min_severity="serious_incident",
            cross_border=True,
        )
    )
    assert scope.population == "all"
    assert scope.reasons == ()


@pytest.mark.parametrize(
    ("filters", "reason"),
    [
        (Filters(q="facial"), "q"),
        (Filters(incident="INC-2026-000001"), "incident"),
        (Filters(organization=uuid.uuid4()), "organization"),
        (Filters(sharing=(Sharing.RED,)), "sharing"),
        (Filters(status=(Status.DRAFT,)), "status"),
        (Filters(language=("fr",)), "language"),
        (Filters(reporting_jurisdiction=("NR",)), "reporting_jurisdiction"),
        (Filters(jurisdiction=("GH", "NR")), "jurisdiction"),
        (Filters(codes=(("sector", ("J", "K")),)), "sector"),
    ],
)
def test_record_level_filters_and_unions_count_only_visible_reports(
    filters: Filters, reason: str
) -> None:
    scope = split(filters)
    assert scope.population == "visible"
    assert scope.reasons == (reason,)
