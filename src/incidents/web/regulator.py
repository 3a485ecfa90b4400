"""A regulator's pages: its reports by status with their Art. 73 deadlines, the filing form
(taxonomy pickers, the API's own errors beside their fields, possible duplicates as one types,
draft or submit; it works without JavaScript), corrections that never overwrite a concurrent
change unseen, withdrawal, and submitting again after a rejection."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.errors import FieldError, IncidentsError, PreconditionFailed, ValidationFailed
from incidents.incidents.duplicates import find_similar
from incidents.incidents.schemas import Candidate
from incidents.members.schemas import Principal
from incidents.reports import filing, lifecycle, reading, schemas
from incidents.reports.filters import Filters, compile_filters
from incidents.reports.states import Action
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.web.deadlines import art73_deadline
from incidents.web.forms import FormErrors, convert
from incidents.web.i18n import N_
from incidents.web.labels import Labels
from incidents.web.pages import NavItem, PageGroup, require
from incidents.web.report_form import (
    ALIASES,
    FIELDS,
    form_choices,
    raw_create,
    raw_patch,
    values_from_report,
    values_of,
)
from incidents.web.templating import page

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
MY_REPORTS_LIMIT = 500
STATUS_ORDER = ("draft", "rejected", "submitted", "under_review", "accepted", "withdrawn")
ShortQuery = Annotated[str | None, QueryParameter(required=False, max_length=300)]
REGULATORS = [require("regulator")]


@get("/my-reports", name="web-my-reports", include_in_schema=False, guards=REGULATORS)
async def my_reports(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
) -> Template:
    conditions = compile_filters(Filters(organization=principal.organization_id), taxonomy)
    found = await reading.list_reports(db, principal, conditions, limit=MY_REPORTS_LIMIT)
    today = datetime.now(UTC).date()
    groups: dict[str, list[Any]] = {status: [] for status in STATUS_ORDER}
    for raw in found.items:
        item = msgspec.json.decode(raw)
        item["deadline"] = art73_deadline(item, today)
        groups.setdefault(item["status"], []).append(item)
    return page(
        request,
        "regulator/my_reports.html",
        {"groups": groups, "labels": Labels(taxonomy), "more": found.next is not None},
    )


def _form_context(
    taxonomy: TaxonomyRegistry,
    values: dict[str, Any],
    errors: FormErrors,
    *,
    action: str,
    candidates: list[Candidate] | None = None,
    report: schemas.Report | None = None,
    conflict: list[tuple[str, Any, Any]] | None = None,
    stale: bool = False,
) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "choices": form_choices(taxonomy.current),
        "countries": sorted(
            (country.name, code) for code, country in taxonomy.current.countries.items()
        ),
        "action": action,
        "candidates": candidates or [],
        "report": report,
        "conflict": conflict or [],
        "stale": stale,
        "etag": reading.etag(report) if report else "",
        "labels": Labels(taxonomy),
    }


def _empty_values() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(FIELDS, "")
    values.update(eu_serious_incident=[], affected_groups=[], sectors=[], language="en")
    return values


async def _candidates(
    db: AsyncConnection,
    principal: Principal,
    title: str,
    system: str | None,
    developer: str | None,
    occurred_on: str | None,
) -> list[Candidate]:
    if len(title.strip()) < 4 and not (system or "").strip():
        return []
    day, precision = _partial_day(occurred_on)
    return await find_similar(
        db,
        principal,
        title=title.strip(),
        system=system,
        developer=developer,
        occurred_on=day,
        precision=precision,
        jurisdictions=[],
        exclude_incident=None,
        limit=5,
    )


def _partial_day(text: str | None) -> tuple[date, str]:
    text = (text or "").strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text), "day"
        if len(text) == 7:
            return date.fromisoformat(text + "-15"), "month"
        if len(text) == 4:
            return date(int(text), 7, 1), "year"
    except ValueError:
        pass
    return datetime.now(UTC).date(), "year"


@get("/file", name="web-file-form", include_in_schema=False, guards=REGULATORS)
async def file_form(
    request: Request[Any, Any, Any], taxonomy: NamedDependency[TaxonomyRegistry]
) -> Template:
    return page(
        request,
        "regulator/file.html",
        _form_context(taxonomy, _empty_values(), FormErrors(), action="/file"),
    )


@get(
    "/file/duplicates",
    name="web-file-duplicates",
    include_in_schema=False,
    guards=REGULATORS,
)
async def duplicates(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    title: ShortQuery = None,
    ai_system_name: ShortQuery = None,
    developer: ShortQuery = None,
    occurred_on: Annotated[str | None, QueryParameter(required=False, max_length=10)] = None,
    incident: Annotated[str | None, QueryParameter(required=False, max_length=40)] = None,
) -> Template:
    """The possible duplicates as the filer types (an htmx fragment)."""
    candidates = await _candidates(
        db, principal, title or "", ai_system_name, developer, occurred_on
    )
    return page(
        request,
        "regulator/duplicates.html",
        {"candidates": candidates, "values": {"incident": incident or ""}},
    )


@post("/file", name="web-file", include_in_schema=False, guards=REGULATORS, status_code=303)
async def file_report(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    data: Annotated[dict[str, Any], FormBody],
) -> Template | Redirect:
    values = values_of(data)
    action = str(data.get("action") or "submit")

    async def candidates() -> list[Candidate]:
        # Only when the form is shown again: a filing that succeeds skips the fuzzy search.
        return await _candidates(
            db,
            principal,
            values["title"],
            values["ai_system_name"],
            values["developer"],
            values["occurred_on"],
        )

    if action == "check":
        context = _form_context(
            taxonomy, values, FormErrors(), action="/file", candidates=await candidates()
        )
        return page(request, "regulator/file.html", context)
    status = "draft" if action == "draft" else "submitted"
    raw = raw_create(values, taxonomy.current, status)
    created, errors = convert(raw, schemas.ReportCreate, taxonomy)
    if not errors:
        try:
            async with db.begin_nested():
                result = await filing.create_report(db, principal, created, taxonomy)
        except ValidationFailed as error:
            errors = list(error.errors or [FieldError("$", error.detail)])
        except IncidentsError as error:
            field = "incident" if values["incident"] else "$"
            errors = [FieldError(field, error.detail)]
        else:
            return Redirect(f"/reports/{result.report.ref}", status_code=303)
    form_errors = FormErrors(errors, fields=FIELDS, aliases=ALIASES)
    context = _form_context(
        taxonomy, values, form_errors, action="/file", candidates=await candidates()
    )
    return page(request, "regulator/file.html", context, status_code=422)


@get(
    "/reports/{reference:str}/edit",
    name="web-report-edit-form",
    include_in_schema=False,
    guards=REGULATORS,
)
async def edit_form(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    reference: FromPath[str],
) -> Template:
    report = await filing.own_report(db, principal, reference)
    context = _form_context(
        taxonomy,
        values_from_report(report),
        FormErrors(),
        action=f"/reports/{report.ref}/edit",
        report=report,
    )
    return page(request, "regulator/file.html", context)


async def _changed_meanwhile(
    db: AsyncConnection, principal: Principal, current: schemas.Report, base_revision: str
) -> list[tuple[str, Any, Any]]:
    """What changed between the revision the form was opened on and the stored one: each field
    with its value then and now."""
    revisions = await reading.list_revisions(db, principal, current.ref)
    base = next(
        (item for item in revisions if str(item.revision) == base_revision and item.content),
        None,
    )
    now = values_from_report(current)
    then = values_from_report(base.content) if base and base.content else {}
    return [
        (field, then.get(field, ""), now[field])
        for field in FIELDS
        if field not in {"sharing", "incident"} and then.get(field, "") != now[field]
    ]


@post(
    "/reports/{reference:str}/edit",
    name="web-report-edit",
    include_in_schema=False,
    guards=REGULATORS,
    status_code=303,
)
async def edit_report(
    request: Request[Any, Any, Any],
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    taxonomy: NamedDependency[TaxonomyRegistry],
    reference: FromPath[str],
    data: Annotated[dict[str, Any], FormBody],
) -> Template | Redirect:
    current = await filing.own_report(db, principal, reference)
    values = values_of(data)
    raw = raw_patch(values, taxonomy.current, current)
    patch, errors = convert(raw, schemas.ReportPatch, taxonomy)
    conflict: list[tuple[str, Any, Any]] = []
    stale = False
    if not errors:
        try:
            async with db.begin_nested():
                updated = await filing.update_report(
                    db, principal, current.ref, str(data.get("etag") or ""), patch, taxonomy
                )
                if updated.status == "rejected":
                    # Acting on a rejection: the corrected report goes back to the secretariat.
                    updated = await lifecycle.transition(db, principal, updated.ref, Action.SUBMIT)
        except PreconditionFailed:
            stale = True
            conflict = await _changed_meanwhile(
                db, principal, current, str(data.get("revision") or "")
            )
        except ValidationFailed as error:
            errors = list(error.errors or [FieldError("$", error.detail)])
        except IncidentsError as error:
            errors = [FieldError("incident" if values["incident"] else "$", error.detail)]
        else:
            return Redirect(f"/reports/{updated.ref}", status_code=303)
    context = _form_context(
        taxonomy,
        values,
        FormErrors(errors, fields=FIELDS, aliases=ALIASES),
        action=f"/reports/{current.ref}/edit",
        report=current,
        conflict=conflict,
        stale=stale,
    )
    return page(request, "regulator/file.html", context, status_code=409 if stale else 422)


@post(
    "/reports/{reference:str}/withdraw",
    name="web-report-withdraw",
    include_in_schema=False,
    guards=REGULATORS,
    status_code=303,
)
async def withdraw(
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    reference: FromPath[str],
    data: Annotated[dict[str, Any], FormBody],
) -> Redirect:
    reason = str(data.get("reason") or "").strip()[:2000] or None
    report = await lifecycle.transition(db, principal, reference, Action.WITHDRAW, reason)
    return Redirect(f"/reports/{report.ref}", status_code=303)


@post(
    "/reports/{reference:str}/submit",
    name="web-report-submit",
    include_in_schema=False,
    guards=REGULATORS,
    status_code=303,
)
async def submit(
    db: NamedDependency[AsyncConnection],
    principal: NamedDependency[Principal],
    reference: FromPath[str],
) -> Redirect:
    report = await lifecycle.transition(db, principal, reference, Action.SUBMIT)
    return Redirect(f"/reports/{report.ref}", status_code=303)


REGULATOR = PageGroup(
    name="regulator",
    handlers=[
        my_reports,
        file_form,
        duplicates,
        file_report,
        edit_form,
        edit_report,
        withdraw,
        submit,
    ],
    navigation=[
        NavItem(N_("My reports"), "/my-reports", audiences=frozenset({"regulator"})),
        NavItem(N_("File a report"), "/file", audiences=frozenset({"regulator"})),
    ],
)
