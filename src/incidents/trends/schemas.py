"""What crosses the API boundary for trends (light: no analytics libraries here)."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType


class Protection(msgspec.Struct, kw_only=True):
    """How the figures of an answer over restricted reports were protected."""

    method: Literal["cell-key perturbation"] = "cell-key perturbation"
    k: int
    """Counts below k, zero included, are published as the band "fewer than k"."""
    noise: int
    """Every other count is its exact value plus a noise between -noise and +noise, fixed by the
    records it counts (the same cell always gets the same figure)."""
    description: str


class TrendCell(msgspec.Struct, kw_only=True, omit_defaults=True):
    period: str
    """2026-Q3, 2026-07 or 2026; with ``year_only``, the incidents of that year whose date is
    known only to the year (counted apart, never in the year's first quarter or month)."""
    year_only: bool
    partial: bool
    """The period is not over yet: its figures will grow."""
    harm_domain: str | UnsetType = UNSET
    harm_subdomain: str | UnsetType = UNSET
    harm_type: str | UnsetType = UNSET
    severity: str | UnsetType = UNSET
    sector: str | UnsetType = UNSET
    country: str | UnsetType = UNSET
    region: str | UnsetType = UNSET
    sub_region: str | UnsetType = UNSET
    development: str | UnsetType = UNSET
    incidents: int | None
    """Null when ``suppressed``: fewer than k (zero included)."""
    suppressed: bool
    previous: int | None
    year_ago: int | None
    change_previous: float | None
    change_year_ago: float | None


class TrendResponse(msgspec.Struct, kw_only=True):
    audience: Literal["public", "member", "secretariat"]
    population: Literal["all", "visible"]
    """all: every accepted report, restricted ones included (protected for all but the
    secretariat); visible: only the reports the caller may see (exact), because a filter
    addresses records or unites values."""
    population_reasons: list[str]
    """The filters that limited the population to the caller's visible reports."""
    protection: Protection | None
    period: str
    by: list[str]
    start: date = msgspec.field(name="from")
    end: date = msgspec.field(name="to")
    taxonomy_version: int
    suppressed_cells: int
    cells: list[TrendCell]
    totals: list[TrendCell]
    labels: dict[str, dict[str, str]]
    notes: list[str]
