"""Tiny hand-built report frames, in the shape extract.py produces."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl

SCHEMA: dict[str, Any] = {
    "incident": pl.Binary,
    "incident_key": pl.Int64,
    "matched": pl.Boolean,
    "occurred_on": pl.Date,
    "occurred_precision": pl.String,
    "event_type": pl.String,
    "affected": pl.List(pl.String),
    "harm_domains": pl.List(pl.String),
    "harm_types": pl.List(pl.String),
    "sectors": pl.List(pl.String),
    "severity": pl.String,
    "severity_ordinal": pl.Int16,
    "eu_categories": pl.List(pl.String),
    "affected_groups": pl.List(pl.String),
    "ai_tasks": pl.List(pl.String),
    "causal_entity": pl.String,
    "causal_intent": pl.String,
    "causal_timing": pl.String,
    "system_type": pl.String,
    "lifecycle_stage": pl.String,
    "autonomy_level": pl.String,
    "report_key": pl.Int64,
    "sharing": pl.String,
    "filer_kind": pl.String,
    "reporting_jurisdiction": pl.String,
    "detected_on": pl.Date,
    "submitted_at": pl.Datetime("us", "UTC"),
    "submitted_on": pl.Date,
}
ROOTS = {"1": "1", "1.1": "1", "1.2": "1", "7": "7", "7.3": "7", "7.6": "7"}
COUNTRIES = pl.LazyFrame(
    {
        "code": ["KE", "BR", "NG", "NO", "US"],
        "region": ["Africa", "Americas", "Africa", "Europe", "Americas"],
        "sub_region": [
            "Sub-Saharan Africa",
            "Latin America and the Caribbean",
            "Sub-Saharan Africa",
            "Northern Europe",
            "Northern America",
        ],
        "development": ["developing", "developing", "developing", "developed", "developed"],
    }
)
CATEGORIES = {
    "harm_domain": ["1", "7"],
    "harm_subdomain": ["1.1", "1.2", "7.3", "7.6"],
    "severity": ["hazard", "incident", "serious_incident", "disaster"],
    "country": ["BR", "KE", "NG", "NO", "US"],
    "region": ["Africa", "Americas", "Europe"],
    "sector": ["H", "K"],
    "harm_type": ["human_rights", "economic_property"],
}


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
    precision: str = "day",
    event_type: str = "incident",
    key: int = 1,
    matched: bool = True,
    sharing: str = "TLP:GREEN",
) -> dict[str, Any]:
    """One report; ``affected`` defaults to the reporter's own country."""
    submitted = submitted or occurred
    return {
        "incident": incident.encode(),
        "incident_key": key,
        "matched": matched,
        "occurred_on": occurred,
        "occurred_precision": precision,
        "event_type": event_type,
        "affected": affected if affected is not None else [country],
        "harm_domains": domains if domains is not None else ["1", "1.1"],
        "harm_types": harm_types or ["human_rights"],
        "sectors": sectors or ["H"],
        "severity": severity[0],
        "severity_ordinal": severity[1],
        "eu_categories": eu or [],
        "affected_groups": [],
        "ai_tasks": [],
        "causal_entity": None,
        "causal_intent": None,
        "causal_timing": None,
        "system_type": None,
        "lifecycle_stage": None,
        "autonomy_level": None,
        "report_key": key,
        "sharing": sharing,
        "filer_kind": kind,
        "reporting_jurisdiction": country,
        "detected_on": detected,
        "submitted_at": datetime(submitted.year, submitted.month, submitted.day),
        "submitted_on": submitted,
    }


def frame(*rows: dict[str, Any]) -> pl.LazyFrame:
    return pl.LazyFrame(list(rows), schema=SCHEMA)
