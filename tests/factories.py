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
        schemas.OrganizationCreate(
            name=name,
            kind=kind,  # type: ignore[arg-type]  # a str here; the kinds the tests use are valid
            jurisdiction=jurisdiction,
        ),
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


def report_payload(**overrides: object) -> dict[str, object]:
    """A valid report as a regulator would send it; override any field."""
    payload: dict[str, object] = {
        "title": "Facial recognition misidentifies commuters at metro gates",
        "summary": "A biometric gate system wrongly flagged travellers as wanted persons.",
        "language": "en",
        "event_type": "incident",
        "severity": "serious_incident",
        "eu_serious_incident": ["c"],
        "harms": [
            {"domain": "1.1", "harm_type": "human_rights", "affected_groups": ["race_ethnicity"]},
        ],
        "causal_entity": "ai",
        "causal_intent": "unintentional",
        "causal_timing": "post_deployment",
        "ai_system": {
            "name": "GateFace",
            "developer": "Visionary Systems",
            "deployer": "Metro Transit Authority",
            "system_type": "biometric_identification",
            "tasks": ["recognition"],
            "lifecycle_stage": "operation_monitoring",
            "autonomy_level": "medium_action",
        },
        "sectors": ["H"],
        "affected_jurisdictions": ["KE"],
        "occurred_on": "2026-03-14",
        "detected_on": "2026-03-20",
        "people_affected": 120,
        "deaths": 0,
        "injuries": 0,
        "sources": [{"url": "https://example.org/news/gateface", "title": "News report"}],
        "actions_taken": "System suspended pending audit.",
        "sharing": "TLP:GREEN",
        "status": "submitted",
    }
    payload.update(overrides)
    return payload
