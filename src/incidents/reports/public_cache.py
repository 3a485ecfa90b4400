"""Answers computed over public reports only (accepted, TLP:CLEAR), kept per process and reused
while the database's ``public_reports`` generation has not moved.

The generation (`cache_generations`, migration 0018_reads) moves in the very transaction that
inserts, changes or deletes a report that is public before or after the change, or renames an
organization that filed one: a correction, a withdrawal, a sharing change of a public report
shows on the next read, on every worker and host (each compares the counter before it trusts
what it holds). Nothing else moves it: a draft, a filing, an AMBER report changing leave it
where it is, so neither the cache key (the statement, which for the public holds only the
public's own filters) nor the timing of a hit or a miss says anything about a record the public
may not see.

Correctness under concurrency: the generation is read first, the answer after, each in its own
snapshot on the same connection; the second is never older than the first, so an answer stored
under generation G holds every change committed up to G (perhaps a few more, never fewer), and
a change committed later has moved the counter past G before anyone can read it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.db import cache_generations

GENERATION = "public_reports"
DEFAULT_ENTRIES = 512

_generation = select(cache_generations.c.generation).where(cache_generations.c.name == GENERATION)
_dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # untyped upstream


async def public_generation(connection: AsyncConnection) -> int:
    """The ``public_reports`` counter, on the connection the answer is then read from (so a
    replica's answer is keyed by the replica's own counter)."""
    return int((await connection.execute(_generation)).scalar_one())


class PublicCache:
    """Rows of statements over public reports, by statement, for one generation at a time;
    at most ``entries`` statements (least recently used dropped first); 0 turns it off."""

    def __init__(self, entries: int = DEFAULT_ENTRIES) -> None:
        self.entries = entries
        self._rows: OrderedDict[tuple[str, str], tuple[int, tuple[Any, ...]]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def configure(self, entries: int) -> None:
        self.entries = entries
        self._rows.clear()

    async def rows(self, connection: AsyncConnection, query: Select[Any]) -> tuple[Any, ...]:
        """The statement's rows (as tuples), from memory when read at the current generation."""
        if self.entries <= 0:
            return tuple((await connection.execute(query)).all())
        generation = await public_generation(connection)
        compiled = query.compile(dialect=_dialect)
        key = (str(compiled), repr(sorted(compiled.params.items())))
        held = self._rows.get(key)
        if held is not None and held[0] == generation:
            self._rows.move_to_end(key)
            self.hits += 1
            return held[1]
        self.misses += 1
        found = tuple((await connection.execute(query)).all())
        self._rows[key] = (generation, found)
        self._rows.move_to_end(key)
        while len(self._rows) > self.entries:
            self._rows.popitem(last=False)
        return found


#: The process's cache of public facet counts (configured by the app from its settings).
PUBLIC_COUNTS = PublicCache()
