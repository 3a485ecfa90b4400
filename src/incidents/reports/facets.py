"""Facets: how many reports (or incidents) the caller may see fall in each value of a dimension,
for the same filters as the list, with labels from the taxonomy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from litestar.params import QueryParameter
from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    cast,
    func,
    literal_column,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import FieldError, ValidationFailed
from incidents.members.schemas import Principal
from incidents.pagination import FacetValue
from incidents.reports.access import visible
from incidents.reports.coded import CODED
from incidents.reports.models import reports
from incidents.reports.public_cache import PUBLIC_COUNTS
from incidents.taxonomy.service import TaxonomyRegistry

# facet name -> (reports column, holds an array, taxonomy dimension for labels): every coded
# field (reports/coded.py) and the report's own attributes.
FACETS: dict[str, tuple[str, bool, str | None]] = {
    "status": ("status", False, None),
    "sharing": ("sharing", False, None),
    "event_type": ("event_type", False, None),
    **{field.name: (field.column, field.many, field.dimension) for field in CODED},
    "language": ("language", False, None),
    "jurisdiction": ("jurisdictions", True, None),
    "reporting_jurisdiction": ("reporting_jurisdiction", False, None),
}


MAX_FACET_VALUES = 100


def parse_facets(value: str | None) -> list[str]:
    if not value:
        return []
    names = list(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [name for name in names if name not in FACETS]
    if unknown:
        raise ValidationFailed(
            "Unknown facet",
            errors=[
                FieldError("facets", f"{name!r} is not one of: {', '.join(FACETS)}")
                for name in unknown
            ],
        )
    return names


async def facet_counts(
    connection: AsyncConnection,
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    names: list[str],
    taxonomy: TaxonomyRegistry,
    *,
    count: Literal["reports", "incidents"] = "reports",
    language: str = "en",
) -> dict[str, list[FacetValue]]:
    """Counts per value over exactly the rows the caller may see and has filtered to, labelled
    in the language (English where the taxonomy has no translation)."""
    if not names:
        return {}
    query = facets_statement(principal, conditions, names, count)
    if principal is None:
        rows = await PUBLIC_COUNTS.rows(connection, query)
    else:
        rows = tuple((await connection.execute(query)).all())
    answer: dict[str, list[FacetValue]] = {name: [] for name in names}
    for name, value, counted in rows:
        dimension = FACETS[name][2]
        answer[name].append(
            FacetValue(
                value=value,
                label=_label(taxonomy, dimension, name, value, language),
                count=counted,
            )
        )
    return answer


def facets_statement(
    principal: Principal | None,
    conditions: Sequence[ColumnElement[bool]],
    names: list[str],
    count: Literal["reports", "incidents"],
) -> Select[Any]:
    """Every facet in one pass over the rows the caller may see and has filtered to: each row
    yields one (facet, value) pair per facet (one per element for arrays) through a LATERAL
    UNION ALL, all counted by one aggregation, then the MAX_FACET_VALUES largest per facet.
    Nine facets used to be nine scans of the same rows; the answer is the same, exact."""
    columns = sorted({FACETS[name][0] for name in names})
    seen = (
        select(*(reports.c[column] for column in columns), reports.c.incident_id)
        .where(visible(principal), *conditions)
        .subquery("seen")
    )
    pairs = union_all(
        *(
            select(
                # A facet name of FACETS, a constant written into the SQL.
                literal_column(f"'{name}'", Text).label("facet"),
                (
                    func.unnest(seen.c[FACETS[name][0]])
                    if FACETS[name][1]
                    else cast(seen.c[FACETS[name][0]], Text)
                ).label("value"),
            ).correlate(seen)
            for name in names
        )
    ).lateral("pair")
    counted = (
        func.count(func.distinct(seen.c.incident_id)) if count == "incidents" else func.count()
    )
    grouped = (
        select(
            pairs.c.facet,
            pairs.c.value,
            counted.label("n"),
        )
        .select_from(seen.join(pairs, true()))
        .where(pairs.c.value.is_not(None))
        .group_by(pairs.c.facet, pairs.c.value)
        .subquery("grouped")
    )
    ranked = select(
        grouped.c.facet,
        grouped.c.value,
        grouped.c.n,
        func.row_number()
        .over(
            partition_by=grouped.c.facet,
            order_by=(grouped.c.n.desc(), grouped.c.value),
        )
        .label("place"),
    ).subquery("ranked")
    return (
        select(ranked.c.facet, ranked.c.value, ranked.c.n)
        .where(ranked.c.place <= MAX_FACET_VALUES)
        .order_by(ranked.c.facet, ranked.c.place)
    )


def _label(
    taxonomy: TaxonomyRegistry, dimension: str | None, facet: str, value: str, language: str
) -> str:
    if dimension is not None:
        for version in sorted(taxonomy.versions, reverse=True):
            known = taxonomy.versions[version].dimensions.get(dimension)
            if known is not None and value in known.codes:
                return known.label(value, language)
        return value
    if facet in {"jurisdiction", "reporting_jurisdiction"}:
        return taxonomy.current.country_name(value, language)
    return value


FacetNames = Annotated[
    str | None,
    QueryParameter(
        required=False, max_length=400, description="Comma-separated: " + ", ".join(FACETS)
    ),
]
