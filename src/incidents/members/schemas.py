"""What crosses the API boundary for organizations and keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

OrganizationKind = Literal["regulator", "research", "secretariat", "source"]
Alpha2 = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Z]{2}$",
        description="An ISO 3166-1 alpha-2 country code in capitals, such as KE",
    ),
]
OrganizationName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
KeyLabel = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class OrganizationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: OrganizationName
    kind: OrganizationKind
    jurisdiction: Alpha2 | None = None
    """Required for regulators: the country whose reports they file."""


class OrganizationUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: OrganizationName | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    """An inactive organization's keys stop working; its records stay."""


class Organization(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
    kind: OrganizationKind
    jurisdiction: str | None
    active: bool
    created_at: datetime


class KeyCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    label: KeyLabel


class ApiKey(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    organization_id: uuid.UUID
    prefix: str
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedKey(ApiKey, kw_only=True):
    key: str
    """The secret. Shown once, never stored: only its hash is kept."""


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The organization (and key) a request acts for."""

    organization_id: uuid.UUID
    organization_name: str
    kind: OrganizationKind
    jurisdiction: str | None
    key_id: uuid.UUID
    key_prefix: str


class OrganizationRef(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    name: str
