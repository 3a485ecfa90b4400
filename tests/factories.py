"""Organizations and keys for tests, made through the same service the API uses."""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor
from incidents.members import schemas, service
from incidents.taxonomy.geography import known_country_codes

TEST_ACTOR = Actor(label="test")


class Member(msgspec.Struct):
    organization: schemas.Organization
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class Members(msgspec.Struct):
    secretariat: Member
    regulator: Member
    """The submitting regulator (Kenya)."""
    same_jurisdiction: Member
    """Another regulator of the same country, a different organization."""
    other_regulator: Member
    """A regulator of another country (Brazil)."""
    researcher: Member


async def make_member(
    connection: AsyncConnection, name: str, kind: str, jurisdiction: str | None = None
) -> Member:
    organization = await service.create_organization(
        connection,
        TEST_ACTOR,
        schemas.OrganizationCreate(name=name, kind=kind, jurisdiction=jurisdiction),  # type: ignore[arg-type]
        known_country_codes(),
    )
    issued = await service.issue_key(connection, TEST_ACTOR, organization.id, "test key")
    return Member(organization=organization, key=issued.key)


async def make_members(connection: AsyncConnection) -> Members:
    return Members(
        secretariat=await make_member(connection, "Test Secretariat", "secretariat"),
        regulator=await make_member(connection, "Kenya Data Commission", "regulator", "KE"),
        same_jurisdiction=await make_member(
            connection, "Kenya Communications Authority", "regulator", "KE"
        ),
        other_regulator=await make_member(connection, "Brazil ANPD", "regulator", "BR"),
        researcher=await make_member(connection, "Global AI Observatory", "research"),
    )
