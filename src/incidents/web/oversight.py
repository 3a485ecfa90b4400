"""The secretariat's oversight pages: taxonomy versions (each released version, and what changed
between two) and the audit log's verification (the latest recorded clean run; run one now and
see its result). The taxonomy service's `diff` and the audit's `verify_database`, as the API and
the CLI use them."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import FieldError, NotFound
from incidents.oversight.verify import latest_checkpoint, verify_database
from incidents.taxonomy.changes import diff
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web.forms import FormErrors
from incidents.web.i18n import N_
from incidents.web.pages import Audience, NavItem, PageGroup, require
from incidents.web.templating import page

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SECRETARIAT_ONLY = [require("secretariat")]
SECRETARIAT_AUDIENCE: frozenset[Audience] = frozenset({"secretariat"})
MAX_SHOWN_DIFFERENCES = 100


@get("/taxonomy", name="web-taxonomy", guards=SECRETARIAT_ONLY)
async def taxonomy_versions(
    request: Request[Any, Any, Any],
    taxonomy: NamedDependency[TaxonomyRegistry],
    old: Annotated[
        int | None, QueryParameter(name="from", required=False, ge=1, le=1_000_000)
    ] = None,
    new: Annotated[
        int | None, QueryParameter(name="to", required=False, ge=1, le=1_000_000)
    ] = None,
) -> Template:
    summaries = taxonomy.summaries()
    versions = [summary.version for summary in summaries]
    problems: list[FieldError] = []
    changes = None
    if old is not None or new is not None:
        chosen = {"from": old, "to": new}
        for field, version in chosen.items():
            if version is None:
                problems.append(FieldError(field, "Choose a version"))
            elif version not in versions:
                problems.append(FieldError(field, f"No released version {version}"))
        if not problems and old is not None and new is not None:
            try:
                changes = diff(taxonomy.get(old).document, taxonomy.get(new).document)
            except NotFound as error:  # unloaded meanwhile: say so beside the field
                problems.append(FieldError("to", error.detail))
    return page(
        request,
        "secretariat/taxonomy.html",
        {
            "summaries": summaries,
            "versions": versions,
            "old": old if old is not None else (versions[-2] if len(versions) > 1 else None),
            "new": new if new is not None else (versions[-1] if versions else None),
            "changes": changes,
            "compared": (old, new),
            "errors": FormErrors(problems, fields=["from", "to"]),
        },
        status_code=422 if problems else 200,
    )


@get("/audit", name="web-audit", guards=SECRETARIAT_ONLY)
async def audit_status(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncConnection]
) -> Template:
    return page(
        request,
        "secretariat/audit.html",
        {"checkpoint": await latest_checkpoint(db), "result": None},
    )


@post("/audit/verify", name="web-audit-verify", guards=SECRETARIAT_ONLY, status_code=200)
async def audit_verify(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncConnection], data: Form
) -> Template:
    """Verify now, as ``GET /api/v1/audit/verify`` does (in its own snapshot); not recorded as a
    checkpoint, which the operator's ``incidents audit verify`` does."""
    incremental = str(data.get("mode") or "full") == "incremental"
    result = await verify_database(request.app.state.database, incremental=incremental)
    return page(
        request,
        "secretariat/audit.html",
        {
            "checkpoint": await latest_checkpoint(db),
            "result": result,
            "shown": MAX_SHOWN_DIFFERENCES,
        },
    )


OVERSIGHT = PageGroup(
    name="oversight",
    handlers=[taxonomy_versions, audit_status, audit_verify],
    navigation=[
        NavItem(N_("Taxonomy"), "/taxonomy", SECRETARIAT_AUDIENCE),
        NavItem(N_("Audit"), "/audit", SECRETARIAT_AUDIENCE),
    ],
)
