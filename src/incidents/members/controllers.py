"""Organizations and API keys over HTTP (the secretariat manages; members see their own)."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.members import schemas, service
from incidents.members.authentication import Authenticator
from incidents.members.guards import provide_authenticator, require_member, require_secretariat
from incidents.openapi import problems
from incidents.pagination import Page


class MemberController(Controller):
    path = "/api/v1"
    tags = ("Members",)
    dependencies = {  # noqa: RUF012 - Litestar's own attribute type
        "authenticator": Provide(provide_authenticator)
    }

    @get(
        "/me",
        operation_id="WhoAmI",
        summary="The organization and key this request acts for",
        guards=[require_member],
        responses=problems(401),
    )
    async def who_am_i(self, principal: NamedDependency[schemas.Principal]) -> schemas.Principal:
        return principal

    @get(
        "/organizations",
        operation_id="ListOrganizations",
        summary="List member organizations",
        guards=[require_member],
        responses=problems(401, 422),
    )
    async def list_organizations(
        self,
        db: NamedDependency[AsyncConnection],
        kind: Annotated[
            schemas.OrganizationKind | None, QueryParameter(description="Only this kind")
        ] = None,
    ) -> Page[schemas.Organization]:
        return Page(items=await service.list_organizations(db, kind=kind))

    @post(
        "/organizations",
        operation_id="CreateOrganization",
        summary="Add a member organization",
        guards=[require_secretariat],
        responses=problems(401, 403, 409, 413, 422),
    )
    async def create_organization(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[schemas.Principal],
        known_countries: NamedDependency[frozenset[str]],
        data: JSONBody[schemas.OrganizationCreate],
    ) -> schemas.Organization:
        return await service.create_organization(
            db, service.actor_for(principal), data, known_countries
        )

    @get(
        "/organizations/{organization_id:uuid}",
        operation_id="GetOrganization",
        summary="One member organization",
        guards=[require_member],
        responses=problems(401, 404),
    )
    async def get_organization(
        self, db: NamedDependency[AsyncConnection], organization_id: FromPath[uuid.UUID]
    ) -> schemas.Organization:
        return await service.get_organization(db, organization_id)

    @patch(
        "/organizations/{organization_id:uuid}",
        operation_id="UpdateOrganization",
        summary="Rename, deactivate or reactivate an organization",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409, 413, 422),
    )
    async def update_organization(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[schemas.Principal],
        authenticator: NamedDependency[Authenticator],
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.OrganizationUpdate],
    ) -> schemas.Organization:
        return await service.update_organization(
            db, service.actor_for(principal), organization_id, data, authenticator
        )

    @get(
        "/organizations/{organization_id:uuid}/keys",
        operation_id="ListKeys",
        summary="An organization's API keys (never the secrets)",
        guards=[require_member],
        responses=problems(401, 403, 404),
    )
    async def list_keys(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[schemas.Principal],
        organization_id: FromPath[uuid.UUID],
    ) -> Page[schemas.ApiKey]:
        return Page(items=await service.list_keys(db, organization_id, seen_by=principal))

    @post(
        "/organizations/{organization_id:uuid}/keys",
        operation_id="IssueKey",
        summary="Issue an API key; the secret is in this response only",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409, 413, 422),
    )
    async def issue_key(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[schemas.Principal],
        organization_id: FromPath[uuid.UUID],
        data: JSONBody[schemas.KeyCreate],
    ) -> schemas.IssuedKey:
        return await service.issue_key(
            db, service.actor_for(principal), organization_id, data.label
        )

    @post(
        "/keys/{key_id:uuid}/revoke",
        operation_id="RevokeKey",
        status_code=200,
        summary="Revoke an API key at once",
        guards=[require_member],
        responses=problems(401, 403, 404),
    )
    async def revoke_key(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[schemas.Principal],
        authenticator: NamedDependency[Authenticator],
        key_id: FromPath[uuid.UUID],
    ) -> schemas.ApiKey:
        return await service.revoke_key(db, principal, key_id, authenticator)
