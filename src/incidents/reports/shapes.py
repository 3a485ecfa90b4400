"""Statements built once per shape: SQL text compiled once by SQLAlchemy for a shape of
statement (which conditions, which role, which sort...), its values bound per request and sent
straight through asyncpg, whose per-connection cache then prepares it once.

A request's filter conditions are split with SQLAlchemy's own cache key into their shape (the
structure, no values) and their values (the bound parameters, in a fixed order); the statement
kept for that shape was compiled from conditions whose every bound parameter was renamed to its
position (``c{condition}b{parameter}``), so a later request's values go into exactly the slots
its own conditions' values would have taken. Nothing of one request's values is kept with the
statement except the template's, which every later request overwrites by name.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, ColumnElement, Text, bindparam
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import visitors

from incidents.db import driver_in_transaction
from incidents.members.schemas import Principal

_DIALECT = asyncpg_dialect.dialect()  # type: ignore[no-untyped-call]

#: How many statement shapes are kept; the least recently used goes first.
MAX_SHAPES = 256


class Split(NamedTuple):
    """Conditions as a hashable shape, their bound values (slot name -> value) and the length
    of each IN list's values (slot name -> length)."""

    shape: Hashable
    values: dict[str, Any]
    expanding: dict[str, int]


def _slot(condition: int, parameter: int) -> str:
    return f"c{condition}b{parameter}"


def split(conditions: Sequence[ColumnElement[bool]]) -> Split | None:
    """The conditions' shape and values; None when a condition cannot be cached (the caller
    then builds its statement as before)."""
    shapes: list[Any] = []
    values: dict[str, Any] = {}
    expanding: dict[str, int] = {}
    for index, condition in enumerate(conditions):
        key = condition._generate_cache_key()
        if key is None:
            return None
        lengths = []
        for position, parameter in enumerate(key.bindparams):
            if parameter.literal_execute:
                return None  # its value would be written into the SQL text
            value = parameter.effective_value
            slot = _slot(index, position)
            values[slot] = value
            # An IN list is written out one placeholder per value: its length is shape.
            if parameter.expanding:
                expanding[slot] = len(value or ())
            lengths.append(expanding.get(slot))
        shapes.append((key.key, tuple(lengths)))
    return Split(tuple(shapes), values, expanding)


def template(conditions: Sequence[ColumnElement[bool]]) -> list[ColumnElement[bool]]:
    """The conditions with each bound parameter renamed to its slot (same type, same value)."""
    renamed = []
    for index, condition in enumerate(conditions):
        key = condition._generate_cache_key()
        assert key is not None  # split() said so
        slots = {
            id(parameter): _slot(index, position)
            for position, parameter in enumerate(key.bindparams)
        }
        renamed.append(visitors.replacement_traverse(condition, {}, _renamer(slots)))  # type: ignore[call-overload]
    return renamed


def _renamer(slots: dict[int, str]) -> Callable[[Any], Any]:
    def rename(element: Any) -> Any:
        if isinstance(element, BindParameter) and id(element) in slots:
            return bindparam(
                slots[id(element)],
                value=element.effective_value,
                type_=element.type,
                expanding=element.expanding,
                unique=False,
            )
        return None

    return rename


class Prepared(NamedTuple):
    """SQL with $n placeholders, and how each position takes its value: ``(name, item,
    constant, processor)``, where item is the index into an IN list's values (or None) and
    constant the compiled value used when the request gives no value under ``name``."""

    sql: str
    positions: tuple[tuple[str, int | None, Any, Callable[[Any], Any] | None], ...]

    def arguments(self, values: dict[str, Any]) -> list[Any]:
        found = []
        for name, item, constant, process in self.positions:
            if name in values:
                value = values[name] if item is None else values[name][item]
            else:
                value = constant
            found.append(process(value) if process is not None and value is not None else value)
        return found


def prepare(statement: Any, expanding: dict[str, int]) -> Prepared:
    """Compile ``statement`` once; ``expanding`` names its IN-list parameters and their lengths
    (written out as ``name_1`` ... ``name_n`` by SQLAlchemy)."""
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    items = {
        f"{name}_{index + 1}": (name, index)
        for name, length in expanding.items()
        for index in range(length)
    }
    processors = compiled._bind_processors
    positions = []
    for position in compiled.positiontup or ():
        name, item = items.get(position, (position, None))
        process = processors.get(name)
        positions.append((name, item, compiled.params.get(position), process))
    return Prepared(str(compiled), tuple(positions))


def viewer(principal: Principal | None) -> tuple[str | None, Any]:
    """A viewer's kind and organization (both None for the public)."""
    if principal is None:
        return None, None
    return principal.kind, principal.organization_id


class Page(NamedTuple):
    """One list page request, whose statements (one per plan tried) are built by ``statement``
    (reading._statement) once per shape."""

    statement: Callable[..., Any]
    sort: str
    limit: int
    principal: Principal | None
    conditions: Sequence[ColumnElement[bool]]
    query_text: str | None
    after: list[Any] | None
    split: Split | None  # None: built per request, run through SQLAlchemy

    async def rows(
        self, connection: AsyncConnection, plan: str | None, window: int | None = None
    ) -> Sequence[Any]:
        kind, organization = viewer(self.principal)
        build = functools.partial(
            self.statement, kind, sort=self.sort, limit=self.limit, plan=plan, window=window
        )
        if self.split is None:
            query = build(organization, self.conditions, self.query_text, self.after)
            return [row._mapping for row in (await connection.execute(query)).all()]
        # The viewer's kind (its visibility rule) is part of the shape, its organization a
        # value: no statement is shared between kinds of viewer.
        shape = (kind, self.sort, self.limit, self.after is not None, plan, window)
        ranked, after = self.query_text is not None, ["after_0", "after_1"]
        values = {"viewer_org": organization, "search_text": self.query_text}
        values.update(zip(after, self.after or (), strict=False))
        return await fetch(
            connection,
            shape,
            self.split,
            values,
            lambda: build(
                bindparam("viewer_org", None),
                template(self.conditions),
                bindparam("search_text", None, type_=Text) if ranked else None,
                None if self.after is None else [bindparam(name, None) for name in after],
            ),
        )


async def fetch(
    connection: AsyncConnection,
    shape: Hashable,
    split: Split,
    values: dict[str, Any],
    build: Callable[[], Any],
) -> list[Any]:
    """The rows of the statement kept for ``shape`` and ``split``'s shape (built by ``build``
    and compiled the first time), bound to ``values`` and the split's, sent through asyncpg in
    the connection's transaction (asyncpg prepares it once per connection)."""
    prepared = CACHE.get((shape, split.shape), lambda: prepare(build(), split.expanding))
    driver = await driver_in_transaction(connection)
    rows: list[Any] = await driver.fetch(prepared.sql, *prepared.arguments(split.values | values))
    return rows


class ShapeCache:
    """A bounded LRU of prepared statements by shape."""

    def __init__(self, size: int = MAX_SHAPES) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, Prepared] = OrderedDict()

    def get(self, shape: Hashable, build: Callable[[], Prepared]) -> Prepared:
        found = self._kept.get(shape)
        if found is not None:
            self._kept.move_to_end(shape)
            return found
        found = self._kept[shape] = build()
        if len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return found

    def __len__(self) -> int:
        return len(self._kept)


CACHE = ShapeCache()
