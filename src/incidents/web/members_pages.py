"""The secretariat's members pages: organizations (list, add), an organization's keys (issue,
shown once; revoke). The members service's own rules and errors; a revoked key's sessions end
with it (the session check reads the key, see web/sessions.py)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import ValidationFailed
from incidents.members import schemas, service
from incidents.members.authentication import Authenticator
from incidents.members.schemas import Principal
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web.forms import FormErrors, convert
from incidents.web.i18n import N_
from incidents.web.pages import Audience, NavItem, PageGroup, require
from incidents.web.templating import page

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SECRETARIAT_ONLY = [require("secretariat")]
SECRETARIAT_AUDIENCE: frozenset[Audience] = frozenset({"secretariat"})
KINDS = ("regulator", "research", "secretariat", "source")


def _organization_values(data: dict[str, Any]) -> dict[str, Any]:
    jurisdiction = str(data.get("jurisdiction") or "").strip().upper()
    return {
        "name": str(data.get("name") or "").strip(),
        "kind": str(data.get("kind") or ""),
        "jurisdiction": jurisdiction or None,
    }


async def _organizations_page(
    request: Request[Any, Any, Any],
    db: AsyncConnection,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "secretariat/organizations.html",
        {
            "organizations": await service.list_organizations(db),
            "values": values or {"name": "", "kind": "regulator", "jurisdiction": ""},
            "errors": errors or FormErrors(),
            "kinds": KINDS,
        },
        status_code=status_code,
    )


@get("/members", name="web-members", guards=SECRETARIAT_ONLY)
async def organizations(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncConnection]
) -> Template:
    return await _organizations_page(request, db)


@post("/members", name="web-members-add", guards=SECRETARIAT_ONLY, status_code=303)
async def add_organization(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    data: Form,
) -> Redirect | Template:
    raw = _organization_values(data)
    fields = ["name", "kind", "jurisdiction"]
    value, problems = convert(raw, schemas.OrganizationCreate, None)
    try:
        if problems:
            raise ValidationFailed("The organization is not valid", errors=problems)
        created = await service.create_organization(
            db, service.actor_for(principal), value, taxonomy.current.countries
        )
    except ValidationFailed as error:
        shown = {**raw, "jurisdiction": raw["jurisdiction"] or ""}
        return await _organizations_page(
            request,
            db,
            values=shown,
            errors=FormErrors(error.errors or [], fields=fields),
            status_code=422,
        )
    return Redirect(f"/members/{created.id}", status_code=303)


async def _organization_page(
    request: Request[Any, Any, Any],
    db: AsyncConnection,
    principal: Principal,
    organization_id: uuid.UUID,
    *,
    issued: schemas.IssuedKey | None = None,
    label: str = "",
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Template:
    organization = await service.get_organization(db, organization_id)
    keys = await service.list_keys(db, organization_id, principal)
    return page(
        request,
        "secretariat/organization.html",
        {
            "organization": organization,
            "keys": keys,
            "issued": issued,
            "label": label,
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@get("/members/{organization_id:uuid}", name="web-member", guards=SECRETARIAT_ONLY)
async def organization(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    organization_id: FromPath[uuid.UUID],
) -> Template:
    return await _organization_page(request, db, principal, organization_id)


@post("/members/{organization_id:uuid}/keys", name="web-member-issue-key", guards=SECRETARIAT_ONLY)
async def issue_key(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    organization_id: FromPath[uuid.UUID],
    data: Form,
) -> Template:
    """The new key's secret is in this answer only: not a redirect, which would lose it."""
    raw = {"label": str(data.get("label") or "").strip()}
    value, problems = convert(raw, schemas.KeyCreate, None)
    if problems:
        errors = FormErrors(problems, fields=["label"])
        return await _organization_page(
            request,
            db,
            principal,
            organization_id,
            label=raw["label"],
            errors=errors,
            status_code=422,
        )
    issued = await service.issue_key(db, service.actor_for(principal), organization_id, value.label)
    return await _organization_page(
        request, db, principal, organization_id, issued=issued, status_code=201
    )


@post(
    "/members/{organization_id:uuid}/keys/{key_id:uuid}/revoke",
    name="web-member-revoke-key",
    guards=SECRETARIAT_ONLY,
    status_code=303,
)
async def revoke_key(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    organization_id: FromPath[uuid.UUID],
    key_id: FromPath[uuid.UUID],
) -> Redirect:
    authenticator: Authenticator = request.app.state.authenticator
    revoked = await service.revoke_key(db, principal, key_id, authenticator)
    return Redirect(f"/members/{revoked.organization_id}", status_code=303)


MEMBERS = PageGroup(
    name="members",
    handlers=[organizations, add_organization, organization, issue_key, revoke_key],
    navigation=[NavItem(N_("Members"), "/members", SECRETARIAT_AUDIENCE)],
)
