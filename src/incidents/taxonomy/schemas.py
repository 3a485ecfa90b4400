"""The taxonomy's file format (parsed strictly) and what the API answers about it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from incidents.taxonomy.geography import Country

Code = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="A code: a letter or digit, then letters, digits, '.', '_' or '-' "
        "(at most 64 characters)",
    ),
]
Name = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="A name in lower case: a letter, then letters, digits or '_' (at most 64)",
    ),
]
Language = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
        description="A language tag (BCP 47) such as en or pt-BR",
    ),
]
Labels = dict[Language, Annotated[str, msgspec.Meta(min_length=1, max_length=200)]]
Definitions = dict[Language, Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]]


class CodeEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Code
    order: Annotated[int, msgspec.Meta(ge=1)]
    label: Labels
    definition: Definitions
    parent: Code | None = None
    ordinal: int | None = None
    retired_in: int | None = None
    replaced_by: Code | None = None


class DimensionFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    hierarchical: bool
    multiple: bool
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    label: Labels
    description: Definitions
    codes: list[CodeEntry]
    source_url: str | None = None


class CrosswalkEntry(msgspec.Struct, forbid_unknown_fields=True, rename={"from_": "from"}):
    from_: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    to: list[Code]


class CrosswalkFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Name
    source: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    target: Name
    entries: list[CrosswalkEntry]


class Manifest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    version: Annotated[int, msgspec.Meta(ge=1)]
    released: date
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    languages: list[Language]
    dimensions: list[Name]
    crosswalks: list[Name]


class TaxonomyDocument(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One whole version: what `taxonomy load` stores and `POST /taxonomy/versions` accepts."""

    manifest: Manifest
    dimensions: list[DimensionFile]
    crosswalks: list[CrosswalkFile]
    geography: list[Country]


class FileProblem(msgspec.Struct):
    """One defect in a taxonomy: the file, the code (if any) and the reason."""

    file: str
    code: str | None
    reason: str


# -- what the API answers --------------------------------------------------------------------


class CodeNode(msgspec.Struct, kw_only=True, omit_defaults=True):
    code: str
    label: dict[str, str]
    definition: dict[str, str]
    order: int
    parent: str | None = None
    ordinal: int | None = None
    retired_in: int | None = None
    replaced_by: str | None = None
    children: list[CodeNode] = []


class DimensionOut(msgspec.Struct, kw_only=True):
    name: str
    label: dict[str, str]
    description: dict[str, str]
    source: str
    source_url: str | None
    hierarchical: bool
    multiple: bool
    codes: list[CodeNode]
    """Top-level codes in order, each with its children (a tree for hierarchical dimensions)."""


class CrosswalkOut(msgspec.Struct, kw_only=True):
    name: str
    source: str
    target: str
    entries: list[CrosswalkEntry]


class TaxonomyOut(msgspec.Struct, kw_only=True):
    version: int
    released: date
    title: str
    languages: list[str]
    dimensions: list[DimensionOut]
    crosswalks: list[CrosswalkOut]


class VersionSummary(msgspec.Struct, kw_only=True):
    version: int
    released: date
    title: str
    loaded_at: datetime
    content_hash: str
    current: bool


class Region(msgspec.Struct, kw_only=True):
    name: str
    sub_regions: list[str]


class GeographyOut(msgspec.Struct, kw_only=True):
    version: int
    countries: list[Country]
    regions: list[Region]
    developments: list[str]
    """Values of ``development``; ``global_south`` means ``development == 'developing'``."""
    language: str
    """The language of ``country_names`` and ``region_names`` (from ``Accept-Language``)."""
    country_names: dict[str, str]
    """Each country's name in ``language`` (Unicode CLDR), by alpha-2 code."""
    region_names: dict[str, str]
    """Each region and sub-region name above (the values filters take) in ``language``."""


class LoadResult(msgspec.Struct, kw_only=True):
    version: int
    created: bool
    content_hash: str
