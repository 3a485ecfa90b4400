"""Which reports an aggregate counts, and how a query's filters apply to incidents.

Aggregates may count every accepted report, restricted ones included, but only along coarse
dimensions: period, one taxonomy code per dimension, one country, sub-region, region or
development group. A filter that can address a single record (free text, incident,
organization, sharing level, status, language, reporting jurisdiction, submission dates) or a
union of values (which differences with another union down to one record) counts only the
reports the caller may see: what it could list anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec
import polars as pl
from sqlalchemy import ColumnElement, and_

from incidents.members.schemas import Principal
from incidents.reports.access import visible
from incidents.reports.coded import BY_NAME
from incidents.reports.filters import Filters, compile_filters, country_set, equivalents
from incidents.reports.models import reports
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends import metrics

Population = Literal["all", "visible"]
# The one status every aggregate over all reports counts (and the columnar copy holds).
COUNTED_STATUS = "accepted"

# Filters that address records rather than categories.
RECORD_LEVEL = (
    "q",
    "incident",
    "organization",
    "sharing",
    "status",
    "language",
    "reporting_jurisdiction",
    "submitted_from",
    "submitted_to",
)
_GEOGRAPHY = ("jurisdiction", "region", "sub_region")


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """A query's filters split by what they address."""

    population: Population
    reasons: tuple[str, ...]
    """The filters that made the population the caller's visible reports."""
    coarse: Filters
    record: Filters


def split(filters: Filters) -> Scope:
    record = Filters(**{name: getattr(filters, name) for name in RECORD_LEVEL})
    empty = Filters()
    coarse = msgspec.structs.replace(
        filters, **{name: getattr(empty, name) for name in RECORD_LEVEL}
    )
    reasons = [name for name in RECORD_LEVEL if getattr(filters, name) not in (None, ())]
    reasons += [name for name in _GEOGRAPHY if len(getattr(coarse, name)) > 1]
    reasons += [name for name, values in coarse.codes if len(values) > 1]
    return Scope(
        population="visible" if reasons else "all",
        reasons=tuple(reasons),
        coarse=coarse,
        record=record,
    )


def reports_counted(
    scope: Scope, principal: Principal | None, taxonomy: TaxonomyRegistry
) -> tuple[ColumnElement[bool], ColumnElement[bool] | None]:
    """(the population's SQL condition, the record-level filters' condition or None).

    The visible population is the caller's visibility rule itself (drafts stay their
    submitter's, the secretariat included); its statuses are the ``status`` filter's, else
    accepted only, as for every aggregate.
    """
    if scope.population == "all":
        return reports.c.status == COUNTED_STATUS, None
    statuses = scope.record.status or (COUNTED_STATUS,)
    population = and_(visible(principal), reports.c.status.in_(statuses))
    record = msgspec.structs.replace(scope.record, status=())
    conditions = compile_filters(record, taxonomy)
    return population, and_(*conditions) if conditions else None


def report_columns(filters: Filters) -> list[str]:
    """The report columns (extract.COLUMNS names) the coarse filters read."""
    names: list[str] = []
    for name, _ in filters.codes:
        names.append(BY_NAME[name].column)
    if filters.min_severity:
        names.append("severity_ordinal")
    if filters.jurisdiction or filters.region or filters.sub_region or filters.development:
        names.append("affected")
    if filters.cross_border is not None:
        names.append("affected")
    return names


def incident_conditions(
    filters: Filters, taxonomy: TaxonomyRegistry, current: Mapping[str, str]
) -> list[pl.Expr]:
    """The coarse filters as conditions on incidents (one row each, from metrics.incidents).

    Codes are compared after resolving retired codes to their replacements, as the incidents'
    own codes are; a domain matches its subdomains (incidents keep codes with ancestors).
    Unknown codes were refused by ``compile_filters`` before any of this runs.
    """
    conditions: list[pl.Expr] = []
    if filters.event_type:
        conditions.append(pl.col("event_type") == filters.event_type)
    if filters.min_severity:
        ordinal = taxonomy.current.dimension("severity").ordinal(filters.min_severity)
        conditions.append(pl.col("severity_ordinal") >= (ordinal or 0))
    for name, values in filters.codes:
        dimension, column = BY_NAME[name].dimension, BY_NAME[name].column
        wanted: set[str] = set()
        for value in values:
            wanted |= {current.get(code, code) for code in equivalents(taxonomy, dimension, value)}
        attribute = metrics.attribute(column)
        if attribute == "severity":
            conditions.append(pl.col("severity").is_in(sorted(wanted)))
        else:
            conditions.append(_overlaps(attribute, sorted(wanted)))
    countries = country_set(filters, taxonomy, [])
    if countries is not None:
        conditions.append(_overlaps("country", sorted(countries)))
    if filters.cross_border is not None:
        conditions.append(pl.col("cross_border") == filters.cross_border)
    if filters.occurred_from:
        conditions.append(pl.col("occurred_on") >= filters.occurred_from)
    if filters.occurred_to:
        conditions.append(pl.col("occurred_on") <= filters.occurred_to)
    return conditions


def _overlaps(column: str, values: Sequence[str]) -> pl.Expr:
    return pl.col(column).list.eval(pl.element().is_in(list(values))).list.any()
