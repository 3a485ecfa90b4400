"""An independent recomputation: every headline and table count of a brief, recomputed with DuckDB
straight from the database's tables, equals the brief's figure in its protected form (the exact
count plus the noise its records' keys fix, or the band), unless the audit withheld it."""

from __future__ import annotations

from typing import Any

import adbc_driver_postgresql.dbapi as adbc
import duckdb
import polars as pl

from incidents.briefs.compute import compute
from incidents.briefs.schemas import BriefRequest
from incidents.db import libpq_url
from incidents.trends.protection import Method, published
from incidents.trends.service import reference_of
from tests.registry import Registry

METHOD = Method(k=5, noise=2)
PERIOD, START, END = "2026-Q2", "2026-04-01", "2026-07-01"
PREVIOUS = ("2026-01-01", "2026-04-01")
YEAR_AGO = ("2025-04-01", "2025-07-01")


def _tables(url: str) -> dict[str, Any]:
    with adbc.connect(libpq_url(url)) as connection, connection.cursor() as cursor:
        found = {}
        for name, sql in (
            (
                "reports",
                "SELECT incident_id::text AS incident_id, status, occurred_on,"
                " occurred_precision, severity, severity_ordinal, eu_categories, harm_domains,"
                " affected_jurisdictions FROM reports",
            ),
            ("incidents", "SELECT id::text AS id, disclosure_key FROM incidents"),
        ):
            cursor.execute(sql)
            found[name] = cursor.fetch_arrow_table()
        return found


INCIDENTS = """
WITH accepted AS (
    SELECT * FROM reports WHERE status = 'accepted'
), dated AS (
    SELECT DISTINCT ON (incident_id) incident_id, occurred_on, occurred_precision
    FROM accepted
    ORDER BY incident_id,
        CASE occurred_precision WHEN 'day' THEN 0 WHEN 'month' THEN 1 ELSE 2 END, occurred_on
), codes AS (
    SELECT incident_id,
        max(severity_ordinal) AS ordinal,
        bool_or(len(eu_categories) > 0) AS eu,
        list_distinct(flatten(list(affected_jurisdictions))) AS countries,
        list_distinct(flatten(list(harm_domains))) AS domains
    FROM accepted GROUP BY incident_id
)
SELECT d.incident_id, d.occurred_on, d.occurred_precision, c.ordinal, c.eu, c.countries,
    c.domains, i.disclosure_key AS key,
    (SELECT severity FROM accepted a WHERE a.incident_id = d.incident_id
     ORDER BY severity_ordinal DESC LIMIT 1) AS severity
FROM dated d JOIN codes c USING (incident_id) JOIN incidents i ON i.id = d.incident_id
"""


def _figure(db: duckdb.DuckDBPyConnection, where: str) -> tuple[int, int]:
    row = db.execute(
        f"SELECT count(*), coalesce(sum(key), 0) % 4294967296 FROM derived WHERE {where}"
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _protected(count: int, key: int) -> int | None:
    value, _ = published(pl.lit(count), pl.lit(key), METHOD)
    return pl.select(value.alias("value")).item()  # type: ignore[no-any-return]


def _in(span: tuple[str, str]) -> str:
    return (
        f"occurred_precision <> 'year' AND occurred_on >= DATE '{span[0]}'"
        f" AND occurred_on < DATE '{span[1]}'"
    )


async def test_every_figure_recomputed_from_the_tables_matches(registry: Registry) -> None:
    made = await compute(registry.url, registry.taxonomy, BriefRequest(period=PERIOD), METHOD)
    tables = _tables(registry.url)
    db = duckdb.connect()
    db.register("reports", tables["reports"])
    db.register("incidents", tables["incidents"])
    db.execute(f"CREATE TABLE derived AS {INCIDENTS}")
    serious_from = reference_of(registry.taxonomy).serious_from
    now = _in((START, END))
    expected: list[tuple[str, Any, str, str]] = [
        ("incidents", made.headline["incidents"], made.headline["incidents_status"], now),
        (
            "serious",
            made.headline["serious"],
            made.headline["serious_status"],
            f"{now} AND (ordinal >= {serious_from} OR eu)",
        ),
        (
            "cross_border",
            made.headline["cross_border"],
            made.headline["cross_border_status"],
            f"{now} AND len(countries) > 1",
        ),
    ]
    for row in made.tables["harm_domains"]:
        code = row["harm_domain"]
        member = f"list_contains(domains, '{code}')"
        expected += [
            (f"domain {code}", row["incidents"], row["status"], f"{now} AND {member}"),
            (
                f"domain {code} before",
                row["previous_incidents"],
                row["previous_status"],
                f"{_in(PREVIOUS)} AND {member}",
            ),
            (
                f"domain {code} a year ago",
                row["year_ago_incidents"],
                row["year_ago_status"],
                f"{_in(YEAR_AGO)} AND {member}",
            ),
        ]
    for row in made.tables["severity"]:
        expected.append(
            (
                f"severity {row['severity']}",
                row["incidents"],
                row["status"],
                f"{now} AND severity = '{row['severity']}'",
            )
        )
    checked = 0
    for name, figure, status, where in expected:
        count, key = _figure(db, where)
        if status == "withheld":
            continue
        assert figure == _protected(count, key), (name, figure, count)
        assert (status == "below_k") == (figure is None), name
        checked += 1
    assert checked >= 25, "a few figures at most are withheld"
