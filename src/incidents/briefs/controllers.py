"""Briefs over HTTP: the secretariat makes, edits, approves, publishes and retracts them; the
public reads what was published."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.briefs import documents, making, reading, workflow
from incidents.briefs.documents import Variant
from incidents.briefs.schemas import (
    Brief,
    BriefData,
    BriefEdit,
    BriefList,
    BriefRequest,
    Retraction,
    check_period,
    scope_filters,
)
from incidents.members.guards import require_secretariat
from incidents.members.schemas import Principal
from incidents.members.service import actor_for
from incidents.openapi import problems
from incidents.reports.filters import compile_filters
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends.protection import Method


def _secretariat(principal: Principal | None) -> bool:
    return principal is not None and principal.kind == "secretariat"


def _method(request: Request[Any, Any, Any]) -> Method:
    settings = request.app.state.settings
    return Method(k=settings.suppression_k, noise=settings.disclosure_noise)


_DESCRIBED = {
    "html": ("text/html", str, "The brief as one HTML page, CSS and charts inline"),
    "pdf": ("application/pdf", bytes, "The brief as a PDF (A4)"),
    "json": ("application/json", BriefData, "Every figure of the brief, with its method"),
    "zip": ("application/zip", bytes, "One CSV and one Parquet file per table"),
}


def document(variant: str, *statuses: int) -> dict[int, ResponseSpec]:
    """A brief document's answers: the file in its media type, and its problems."""
    media, container, description = _DESCRIBED[variant]
    specs = problems(*statuses)
    specs[200] = ResponseSpec(
        data_container=container,
        description=description,
        media_type=media,
        generate_examples=False,
    )
    return specs


class BriefController(Controller):
    path = "/api/v1"
    tags = ("Briefs",)

    @post(
        "/briefs",
        operation_id="CreateBrief",
        summary="Make a risk brief for a period (in the background; poll its status)",
        guards=[require_secretariat],
        responses=problems(401, 403, 413, 422),
        status_code=202,
    )
    async def create_brief(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        taxonomy: NamedDependency[TaxonomyRegistry],
        data: JSONBody[BriefRequest],
    ) -> Response[Brief]:
        # A bad period or scope is a 422 now, not a failed job later.
        check_period(data.period, data.provisional)
        compile_filters(scope_filters(data.scope), taxonomy)
        brief = await making.queue(db, actor_for(principal), data)
        # Runs once the response is sent, i.e. after the request's transaction committed.
        task = BackgroundTask(
            making.run_in_background,
            request.app.state.settings,
            request.app.state.database,
            taxonomy,
            brief.id,
            _method(request),
        )
        return Response(
            content=brief,
            status_code=202,
            background=task,
            headers={"Location": brief.links["self"]},
        )

    @get(
        "/briefs",
        operation_id="ListBriefs",
        summary="Published briefs (and superseded or retracted ones, with their notice); the "
        "secretariat sees every brief",
        responses=problems(401),
    )
    async def list_briefs(
        self, db: NamedDependency[AsyncConnection], principal: NamedDependency[Principal | None]
    ) -> BriefList:
        return BriefList(items=await reading.listing(db, secretariat=_secretariat(principal)))

    @get(
        "/briefs/{brief_id:uuid}",
        operation_id="GetBrief",
        summary="A brief's status, editorial state and links to its documents",
        responses=problems(401, 404),
    )
    async def get_brief(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        brief_id: FromPath[uuid.UUID],
    ) -> Brief:
        return await reading.get(db, brief_id, secretariat=_secretariat(principal))

    @get(
        "/briefs/{brief_id:uuid}/brief.html",
        operation_id="GetBriefHtml",
        summary="The brief as one self-contained HTML page (a retracted brief: its notice)",
        media_type="text/html",
        responses=document("html", 401, 404, 409),
    )
    async def get_brief_html(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        brief_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        return await _document(db, principal, brief_id, "html")

    @get(
        "/briefs/{brief_id:uuid}/brief.pdf",
        operation_id="GetBriefPdf",
        summary="The brief as a PDF",
        media_type="application/pdf",
        responses=document("pdf", 401, 404, 409, 410),
    )
    async def get_brief_pdf(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        brief_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        return await _document(db, principal, brief_id, "pdf")

    @get(
        "/briefs/{brief_id:uuid}/data.json",
        operation_id="GetBriefData",
        summary="Every figure of the brief, its parameters, protection and audit, as JSON",
        media_type="application/json",
        responses=document("json", 401, 404, 409, 410),
    )
    async def get_brief_data(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        brief_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        return await _document(db, principal, brief_id, "json")

    @get(
        "/briefs/{brief_id:uuid}/data.zip",
        operation_id="GetBriefDataZip",
        summary="The brief's tables as CSV and Parquet files in a zip",
        media_type="application/zip",
        responses=document("zip", 401, 404, 409, 410),
    )
    async def get_brief_zip(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal | None],
        brief_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        return await _document(db, principal, brief_id, "zip")

    @patch(
        "/briefs/{brief_id:uuid}",
        operation_id="EditBrief",
        summary="Write the executive summary, issuing body and date of issue of a draft or "
        "approved brief (an approved brief goes back to draft)",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409, 422),
    )
    async def edit_brief(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        brief_id: FromPath[uuid.UUID],
        data: JSONBody[BriefEdit],
    ) -> Brief:
        workflow.check_edit(data)
        return await workflow.edit(db, actor_for(principal), brief_id, data)

    @post(
        "/briefs/{brief_id:uuid}/approve",
        operation_id="ApproveBrief",
        summary="Approve a draft whose disclosure audit passed and which names its issuing body "
        "and date of issue",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409),
        status_code=200,
    )
    async def approve_brief(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        brief_id: FromPath[uuid.UUID],
    ) -> Brief:
        return await workflow.approve(db, actor_for(principal), brief_id)

    @post(
        "/briefs/{brief_id:uuid}/publish",
        operation_id="PublishBrief",
        summary="Make an approved brief public as the next version of its period and scope",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409),
        status_code=200,
    )
    async def publish_brief(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        brief_id: FromPath[uuid.UUID],
    ) -> Brief:
        return await workflow.publish(db, actor_for(principal), brief_id)

    @post(
        "/briefs/{brief_id:uuid}/retract",
        operation_id="RetractBrief",
        summary="Retract a published brief: its address then shows the notice",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409, 422),
        status_code=200,
    )
    async def retract_brief(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        brief_id: FromPath[uuid.UUID],
        data: JSONBody[Retraction],
    ) -> Brief:
        return await workflow.retract(db, actor_for(principal), brief_id, data)

    @delete(
        "/briefs/{brief_id:uuid}",
        operation_id="DeleteBrief",
        summary="Delete a failed or draft brief",
        guards=[require_secretariat],
        responses=problems(401, 403, 404, 409),
    )
    async def delete_brief(
        self,
        db: NamedDependency[AsyncConnection],
        principal: NamedDependency[Principal],
        brief_id: FromPath[uuid.UUID],
    ) -> None:
        await workflow.remove(db, actor_for(principal), brief_id)


async def _document(
    db: AsyncConnection, principal: Principal | None, brief_id: uuid.UUID, variant: Variant
) -> Response[bytes]:
    body = await reading.content(db, brief_id, variant, secretariat=_secretariat(principal))
    headers = {}
    if variant in {"pdf", "zip"}:
        headers["Content-Disposition"] = (
            f'attachment; filename="{documents.FILES[variant].replace(".", f"-{brief_id}.")}"'
        )
    return Response(content=body, media_type=documents.MEDIA[variant], headers=headers)
