"""The secretariat's briefs: request one (made in the background, as over the API; its progress
polled by htmx, or by following "check again" without JavaScript), preview its figures and
download its documents, edit the editorial fields, approve, publish, retract. Each step is the
briefs service's own, with its own rules and errors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.briefs import documents, making, reading, workflow
from incidents.briefs.schemas import (
    Brief,
    BriefEdit,
    BriefRequest,
    Retraction,
    check_period,
    scope_filters,
)
from incidents.errors import NotFound, ValidationFailed
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.reports.filters import compile_filters
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends.protection import Method
from incidents.web.forms import FormErrors, convert
from incidents.web.i18n import N_
from incidents.web.pages import Audience, NavItem, PageGroup, require
from incidents.web.templating import page

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SECRETARIAT_ONLY = [require("secretariat")]
SECRETARIAT_AUDIENCE: frozenset[Audience] = frozenset({"secretariat"})
IN_PROGRESS = ("queued", "running")
REQUEST_FIELDS = ["period", "provisional", "region"]
EDIT_FIELDS = ["executive_summary", "issuing_body", "issued_on"]
POLL_SECONDS = 2
STATUS_WORDS = {"below_k": N_("fewer than k"), "withheld": N_("withheld")}


def _text(data: dict[str, Any], name: str) -> str:
    return str(data.get(name) or "").strip()


async def _list_page(
    request: Request[Any, Any, Any],
    db: AsyncConnection,
    *,
    values: dict[str, Any] | None = None,
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Template:
    return page(
        request,
        "secretariat/briefs.html",
        {
            "briefs": await reading.listing(db, secretariat=True),
            "values": values or {"period": "", "provisional": False, "region": ""},
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


@get("/editorial", name="web-editorial", guards=SECRETARIAT_ONLY)
async def briefs(request: Request[Any, Any, Any], db: NamedDependency[AsyncConnection]) -> Template:
    return await _list_page(request, db)


@post("/editorial", name="web-editorial-request", guards=SECRETARIAT_ONLY, status_code=303)
async def request_brief(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    data: Form,
) -> Redirect | Template:
    values = {
        "period": _text(data, "period"),
        "provisional": bool(data.get("provisional")),
        "region": _text(data, "region"),
    }
    raw: dict[str, Any] = {"period": values["period"], "provisional": values["provisional"]}
    if values["region"]:
        raw["scope"] = {"region": values["region"]}
    try:
        wanted, problems = convert(raw, BriefRequest, None)
        if problems:
            raise ValidationFailed("The brief request is not valid", errors=problems)
        # As the API: a bad period or scope is a 422 now, not a failed job later.
        check_period(wanted.period, wanted.provisional)
        compile_filters(scope_filters(wanted.scope), taxonomy)
    except ValidationFailed as error:
        errors = FormErrors(
            error.errors or [], fields=REQUEST_FIELDS, aliases={"scope.region": "region"}
        )
        return await _list_page(request, db, values=values, errors=errors, status_code=422)
    brief = await making.queue(db, actor_for(principal), wanted)
    settings = request.app.state.settings
    method = Method(k=settings.suppression_k, noise=settings.disclosure_noise)
    # Runs once the answer is sent, i.e. after the request's transaction committed.
    task = BackgroundTask(
        making.run_in_background,
        request.app.state.settings,
        request.app.state.database,
        taxonomy,
        brief.id,
        method,
    )
    return Redirect(f"/editorial/{brief.id}", status_code=303, background=task)


def _headline(brief_data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The brief's headline figures as (name, shown value): a figure's protected value, or, when
    it has none, what its ``<name>_status`` says (below the band, withheld)."""
    headline: dict[str, Any] = brief_data.get("headline", {})
    shown: list[tuple[str, Any]] = []
    for name, figure in headline.items():
        value: Any = figure
        status: Any
        if name.endswith(("_status", "_key")):
            continue
        if isinstance(figure, dict) and "status" in figure:
            value, status = figure.get("value"), figure["status"]
        else:
            status = headline.get(f"{name}_status")
        if value is None and status in STATUS_WORDS:
            value = STATUS_WORDS[status]
        if isinstance(value, (str, int, float)) or value is None:
            shown.append((name.replace("_", " "), value))
    return shown


async def _brief_page(
    request: Request[Any, Any, Any],
    db: AsyncConnection,
    brief_id: uuid.UUID,
    *,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    brief = await reading.get(db, brief_id, secretariat=True)
    preview: dict[str, Any] = {}
    if brief.status in reading.WITH_DOCUMENTS and brief.status != "retracted":
        preview = msgspec.json.decode(await reading.content(db, brief_id, "json", secretariat=True))
    return page(
        request,
        "secretariat/brief.html",
        {
            "brief": brief,
            "in_progress": brief.status in IN_PROGRESS,
            "elapsed": int((datetime.now(UTC) - brief.created_at).total_seconds()),
            "poll": POLL_SECONDS,
            "title": preview.get("title", ""),
            "headline": _headline(preview),
            "tables": {name: len(rows) for name, rows in preview.get("tables", {}).items()},
            "values": values or _edit_values(brief),
            "errors": errors or FormErrors(),
        },
        status_code=status_code,
    )


def _edit_values(brief: Brief) -> dict[str, Any]:
    return {
        "executive_summary": brief.executive_summary or "",
        "issuing_body": brief.issuing_body or "",
        "issued_on": brief.issued_on.isoformat() if brief.issued_on else "",
        "notice": "",
    }


@get("/editorial/{brief_id:uuid}", name="web-editorial-brief", guards=SECRETARIAT_ONLY)
async def brief_page(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    brief_id: FromPath[uuid.UUID],
) -> Template:
    return await _brief_page(request, db, brief_id)


@get("/editorial/{brief_id:uuid}/progress", name="web-editorial-progress", guards=SECRETARIAT_ONLY)
async def progress(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    brief_id: FromPath[uuid.UUID],
) -> Template:
    """htmx polls this fragment; once the brief is made, the whole page reloads to show it."""
    brief = await reading.get(db, brief_id, secretariat=True)
    done = brief.status not in IN_PROGRESS
    return Template(
        template_name="secretariat/brief_progress.html",
        context={
            "brief": brief,
            "in_progress": not done,
            "elapsed": int((datetime.now(UTC) - brief.created_at).total_seconds()),
            "poll": POLL_SECONDS,
        },
        headers={"HX-Refresh": "true"} if done else {},
        media_type="text/html",
    )


@get(
    "/editorial/{brief_id:uuid}/{variant:str}",
    name="web-editorial-document",
    guards=SECRETARIAT_ONLY,
)
async def document(
    db: NamedDependency[AsyncConnection], brief_id: FromPath[uuid.UUID], variant: FromPath[str]
) -> Response[bytes]:
    """A document of the brief, as a download (a draft's documents are not public)."""
    by_file = {documents.FILES[kind]: kind for kind in documents.VARIANTS}
    kind = by_file.get(variant)
    if kind is None:
        raise NotFound(f"No document {variant}")
    body = await reading.content(db, brief_id, kind, secretariat=True)
    filename = variant.replace(".", f"-{brief_id}.")
    return Response(
        content=body,
        media_type=documents.MEDIA[kind],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@post(
    "/editorial/{brief_id:uuid}/edit",
    name="web-editorial-edit",
    guards=SECRETARIAT_ONLY,
    status_code=303,
)
async def edit(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    brief_id: FromPath[uuid.UUID],
    data: Form,
) -> Redirect | Template:
    values = {name: str(data.get(name) or "") for name in EDIT_FIELDS}
    raw: dict[str, Any] = {"executive_summary": values["executive_summary"]}
    if values["issuing_body"].strip():
        raw["issuing_body"] = values["issuing_body"].strip()
    raw["issued_on"] = values["issued_on"].strip() or None
    change, problems = convert(raw, BriefEdit, None)
    if problems:
        return await _brief_page(
            request,
            db,
            brief_id,
            errors=FormErrors(problems, fields=EDIT_FIELDS),
            values={**values, "notice": ""},
            status_code=422,
        )
    await workflow.edit(db, actor_for(principal), brief_id, change)
    return Redirect(f"/editorial/{brief_id}", status_code=303)


@post(
    "/editorial/{brief_id:uuid}/approve",
    name="web-editorial-approve",
    guards=SECRETARIAT_ONLY,
    status_code=303,
)
async def approve(
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    brief_id: FromPath[uuid.UUID],
) -> Redirect:
    await workflow.approve(db, actor_for(principal), brief_id)
    return Redirect(f"/editorial/{brief_id}", status_code=303)


@post(
    "/editorial/{brief_id:uuid}/publish",
    name="web-editorial-publish",
    guards=SECRETARIAT_ONLY,
    status_code=303,
)
async def publish(
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    brief_id: FromPath[uuid.UUID],
) -> Redirect:
    await workflow.publish(db, actor_for(principal), brief_id)
    return Redirect(f"/editorial/{brief_id}", status_code=303)


@post(
    "/editorial/{brief_id:uuid}/retract",
    name="web-editorial-retract",
    guards=SECRETARIAT_ONLY,
    status_code=303,
)
async def retract(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    brief_id: FromPath[uuid.UUID],
    data: Form,
) -> Redirect | Template:
    notice = str(data.get("notice") or "").strip()
    retraction, problems = convert({"notice": notice}, Retraction, None)
    if problems:
        brief = await reading.get(db, brief_id, secretariat=True)
        return await _brief_page(
            request,
            db,
            brief_id,
            errors=FormErrors(problems, fields=["notice"]),
            values={**_edit_values(brief), "notice": notice},
            status_code=422,
        )
    await workflow.retract(db, actor_for(principal), brief_id, retraction)
    return Redirect(f"/editorial/{brief_id}", status_code=303)


EDITORIAL = PageGroup(
    name="editorial",
    handlers=[
        briefs,
        request_brief,
        brief_page,
        progress,
        document,
        edit,
        approve,
        publish,
        retract,
    ],
    navigation=[NavItem(N_("Brief desk"), "/editorial", SECRETARIAT_AUDIENCE)],
)
