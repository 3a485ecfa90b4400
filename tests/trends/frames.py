"""Tiny hand-built report frames, in the shape extract.py produces."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

SCHEMA: dict[str, Any] = {
    "incident": pl.Binary,
    "filer_kind": pl.String,
    "reporting_jurisdiction": pl.String,
    "jurisdictions": pl.List(pl.String),
    "harm_domains": pl.List(pl.String),
    "harm_types": pl.List(pl.String),
    "sectors": pl.List(pl.String),
    "severity": pl.String,
    "severity_ordinal": pl.Int16,
    "eu_categories": pl.List(pl.String),
    "occurred_on": pl.Date,
    "detected_on": pl.Date,
    "submitted_at": pl.Datetime("us", "UTC"),
    "submitted_on": pl.Date,
}
ROOTS = {"1": "1", "1.1": "1", "1.2": "1", "7": "7", "7.3": "7", "7.6": "7"}
COUNTRIES = pl.LazyFrame(
    {
        "code": ["KE", "BR", "NG", "NO"],
        "region": ["Africa", "Americas", "Africa", "Europe"],
        "sub_region": [
            "Sub-Saharan Africa",
            "Latin America and the Caribbean",
            "Sub-Saharan Africa",
            "Northern Europe",
        ],
        "development": ["developing", "developing", "developing", "developed"],
    }
)


def report(
    incident: str,
    occurred: date,
    *,
    country: str = "KE",
    affected: list[str] | None = None,
    domains: list[str] | None = None,
    severity: tuple[str, int] = ("incident", 3),
    eu: list[str] | None = None,
    detected: date | None = None,
    submitted: date | None = None,
    kind: str = "regulator",
    harm_types: list[str] | None = None,
    sectors: list[str] | None = None,
) -> dict[str, Any]:
    submitted = submitted or occurred
    return {
        "incident": incident.encode(),
        "filer_kind": kind,
        "reporting_jurisdiction": country,
        "jurisdictions": sorted({country, *(affected or [])}),
        "harm_domains": domains if domains is not None else ["1", "1.1"],
        "harm_types": harm_types or ["human_rights"],
        "sectors": sectors or ["H"],
        "severity": severity[0],
        "severity_ordinal": severity[1],
        "eu_categories": eu or [],
        "occurred_on": occurred,
        "detected_on": detected,
        "submitted_at": datetime(submitted.year, submitted.month, submitted.day),
        "submitted_on": submitted,
    }


def frame(*rows: dict[str, Any]) -> pl.LazyFrame:
    return pl.LazyFrame(list(rows), schema=SCHEMA)
