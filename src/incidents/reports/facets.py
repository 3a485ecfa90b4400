"""Facets: how many reports (or incidents) the caller may see fall in each value of a dimension,
for the same filters as the list, with labels from the taxonomy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from litestar.params import QueryParameter
from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import FieldError, ValidationFailed
from incidents.members.schemas import Principal
from incidents.pagination import FacetValue
from incidents.reports.access import visible
from incidents.reports.coded import CODED
from incidents.reports.models import reports
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
    answer: dict[str, list[FacetValue]] = {}
    for name in names:
        column_name, is_array, dimension = FACETS[name]
        column = reports.c[column_name]
        value = func.unnest(column).label("value") if is_array else column.label("value")
        inner = (
            select(value, reports.c.incident_id).where(visible(principal), *conditions).subquery()
        )
        counted = (
            func.count(func.distinct(inner.c.incident_id)) if count == "incidents" else func.count()
        )
        query = (
            select(inner.c.value, counted.label("n"))
            .where(inner.c.value.is_not(None))
            .group_by(inner.c.value)
            .order_by(literal_column("n").desc(), inner.c.value)
            .limit(MAX_FACET_VALUES)
        )
        rows = (await connection.execute(query)).all()
        answer[name] = [
            FacetValue(
                value=row.value,
                label=_label(taxonomy, dimension, name, row.value, language),
                count=row.n,
            )
            for row in rows
        ]
    return answer


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
