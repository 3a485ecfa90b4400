"""The coded fields of a report: one table says, for each, where the content holds it, which
taxonomy dimension its codes come from and which reports column stores it. Validation,
derivation, filters, facets, exports and trends all read this table, so adding a dimension is
one line here (plus its column)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec


class CodedField(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    """The filter, facet and trend name (``?sector=K``)."""
    dimension: str
    """The taxonomy dimension its codes come from."""
    column: str
    """The reports column that stores it (an array when ``many``)."""
    path: str
    """Where the content holds it: ``a.b`` a field, ``[]`` a list, e.g. ``harms[].domain``."""
    many: bool = False
    ancestors: bool = False
    """The column stores each code with its ancestors, so that a filter on a parent matches."""


CODED: tuple[CodedField, ...] = (
    CodedField(name="severity", dimension="severity", column="severity", path="severity"),
    CodedField(
        name="eu_serious_incident",
        dimension="eu_serious_incident",
        column="eu_categories",
        path="eu_serious_incident[]",
        many=True,
    ),
    CodedField(
        name="harm_domain",
        dimension="harm_domain",
        column="harm_domains",
        path="harms[].domain",
        many=True,
        ancestors=True,
    ),
    CodedField(
        name="harm_type",
        dimension="harm_type",
        column="harm_types",
        path="harms[].harm_type",
        many=True,
    ),
    CodedField(
        name="affected_group",
        dimension="affected_group",
        column="affected_groups",
        path="harms[].affected_groups[]",
        many=True,
        ancestors=True,
    ),
    CodedField(
        name="causal_entity",
        dimension="causal_entity",
        column="causal_entity",
        path="causal_entity",
    ),
    CodedField(
        name="causal_intent",
        dimension="causal_intent",
        column="causal_intent",
        path="causal_intent",
    ),
    CodedField(
        name="causal_timing",
        dimension="causal_timing",
        column="causal_timing",
        path="causal_timing",
    ),
    CodedField(
        name="system_type",
        dimension="ai_system_type",
        column="system_type",
        path="ai_system.system_type",
    ),
    CodedField(
        name="ai_task", dimension="ai_task", column="ai_tasks", path="ai_system.tasks[]", many=True
    ),
    CodedField(
        name="lifecycle_stage",
        dimension="lifecycle_stage",
        column="lifecycle_stage",
        path="ai_system.lifecycle_stage",
    ),
    CodedField(
        name="autonomy_level",
        dimension="autonomy_level",
        column="autonomy_level",
        path="ai_system.autonomy_level",
    ),
    CodedField(name="sector", dimension="sector", column="sectors", path="sectors[]", many=True),
)
BY_NAME = {field.name: field for field in CODED}
BY_COLUMN = {field.column: field for field in CODED}


def located(content: Any, field: CodedField) -> Iterator[tuple[str, str]]:
    """Every code the content gives for ``field``, with its place in the content as an error
    names it (``harms[0].domain``, ``sectors[2]``); absent values give nothing."""

    def walk(value: Any, steps: list[str], where: str) -> Iterator[tuple[str, str]]:
        if value is None:
            return
        if not steps:
            yield where, value
            return
        step, *rest = steps
        if step.endswith("[]"):
            name = step[:-2]
            items = getattr(value, name) if name else value
            for position, item in enumerate(items):
                yield from walk(item, rest, f"{where}{'.' if where else ''}{name}[{position}]")
        else:
            yield from walk(getattr(value, step), rest, f"{where}{'.' if where else ''}{step}")

    yield from walk(content, field.path.split("."), "")
