"""The registry's filters: one set of query parameters shared by reports, incidents and trends,
turned into SQL conditions with codes checked against (and resolved through) the taxonomy."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from litestar.di import Provide
from litestar.params import QueryParameter
from sqlalchemy import ColumnElement, Table, Text, cast, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from incidents.errors import FieldError, ValidationFailed
from incidents.incidents.models import incidents
from incidents.reports.coded import BY_NAME
from incidents.reports.content import unknown_code
from incidents.reports.models import reports
from incidents.reports.states import Sharing, Status
from incidents.taxonomy.service import TaxonomyRegistry

MAX_VALUES = 100
E = TypeVar("E", bound=StrEnum)


class Filters(msgspec.Struct, kw_only=True, frozen=True):
    status: tuple[Status, ...] = ()
    sharing: tuple[Sharing, ...] = ()
    event_type: Literal["incident", "hazard"] | None = None
    min_severity: str | None = None
    codes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    language: tuple[str, ...] = ()
    jurisdiction: tuple[str, ...] = ()
    reporting_jurisdiction: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    sub_region: tuple[str, ...] = ()
    development: str | None = None
    cross_border: bool | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    organization: uuid.UUID | None = None
    incident: str | None = None
    q: str | None = None

    def as_query(self) -> dict[str, Any]:
        """The filters back as query parameters (for Link headers)."""
        query: dict[str, Any] = {}
        for field in self.__struct_fields__:
            value = getattr(self, field)
            if field == "codes":
                query.update({name: list(values) for name, values in value})
            elif value not in (None, ()):
                query[field] = list(value) if isinstance(value, tuple) else value
        return query


def _split(values: list[str] | None) -> tuple[str, ...]:
    """Repeated parameters and comma-separated lists both work: ?sector=J&sector=K, ?sector=J,K."""
    if not values:
        return ()
    found = tuple(
        dict.fromkeys(part.strip() for value in values for part in value.split(",") if part.strip())
    )
    if len(found) > MAX_VALUES:
        raise ValidationFailed(
            "Too many filter values", errors=[FieldError("filters", f"At most {MAX_VALUES}")]
        )
    return found


Many = Annotated[
    list[str] | None, QueryParameter(required=False, description="Repeat, or comma-separate")
]


def provide_filters(
    status: Many = None,
    sharing: Many = None,
    event_type: Annotated[
        Literal["incident", "hazard"] | None, QueryParameter(required=False)
    ] = None,
    severity: Many = None,
    min_severity: Annotated[
        str | None,
        QueryParameter(
            required=False,
            max_length=64,
            description="This severity or worse (by the taxonomy's ordinal)",
        ),
    ] = None,
    harm_domain: Many = None,
    harm_type: Many = None,
    affected_group: Many = None,
    sector: Many = None,
    eu_serious_incident: Many = None,
    causal_entity: Many = None,
    causal_intent: Many = None,
    causal_timing: Many = None,
    system_type: Many = None,
    ai_task: Many = None,
    lifecycle_stage: Many = None,
    autonomy_level: Many = None,
    language: Many = None,
    jurisdiction: Annotated[
        list[str] | None,
        QueryParameter(
            required=False, description="Reported or affected country (ISO alpha-2), any of"
        ),
    ] = None,
    reporting_jurisdiction: Many = None,
    region: Annotated[
        list[str] | None, QueryParameter(required=False, description="UN M49 region")
    ] = None,
    sub_region: Annotated[
        list[str] | None, QueryParameter(required=False, description="UN M49 sub-region")
    ] = None,
    development: Annotated[
        Literal["developed", "developing"] | None,
        QueryParameter(required=False, description="developing = the Global South lens"),
    ] = None,
    cross_border: Annotated[
        bool | None, QueryParameter(required=False, description="Names more than one country")
    ] = None,
    occurred_from: Annotated[date | None, QueryParameter(required=False)] = None,
    occurred_to: Annotated[date | None, QueryParameter(required=False)] = None,
    submitted_from: Annotated[date | None, QueryParameter(required=False)] = None,
    submitted_to: Annotated[date | None, QueryParameter(required=False)] = None,
    organization: Annotated[
        uuid.UUID | None, QueryParameter(required=False, description="Submitter")
    ] = None,
    incident: Annotated[str | None, QueryParameter(required=False, max_length=64)] = None,
    q: Annotated[
        str | None,
        QueryParameter(
            required=False,
            max_length=200,
            description="Full-text search in title, summary, system and developer",
        ),
    ] = None,
) -> Filters:
    raw_codes = {
        "severity": severity,
        "harm_domain": harm_domain,
        "harm_type": harm_type,
        "affected_group": affected_group,
        "sector": sector,
        "eu_serious_incident": eu_serious_incident,
        "causal_entity": causal_entity,
        "causal_intent": causal_intent,
        "causal_timing": causal_timing,
        "system_type": system_type,
        "ai_task": ai_task,
        "lifecycle_stage": lifecycle_stage,
        "autonomy_level": autonomy_level,
    }
    errors: list[FieldError] = []
    statuses = _allowed("status", _split(status), Status, errors)
    levels = _allowed("sharing", _split(sharing), Sharing, errors)
    if errors:
        raise ValidationFailed("Invalid filter", errors=errors)
    return Filters(
        status=statuses,
        sharing=levels,
        event_type=event_type,
        min_severity=min_severity,
        codes=tuple((name, _split(values)) for name, values in raw_codes.items() if values),
        language=_split(language),
        jurisdiction=tuple(code.upper() for code in _split(jurisdiction)),
        reporting_jurisdiction=tuple(code.upper() for code in _split(reporting_jurisdiction)),
        region=_split(region),
        sub_region=_split(sub_region),
        development=development,
        cross_border=cross_border,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        organization=organization,
        incident=incident,
        q=q.strip() if q and q.strip() else None,
    )


def _allowed(
    name: str, values: tuple[str, ...], allowed: type[E], errors: list[FieldError]
) -> tuple[E, ...]:
    """The values as members of ``allowed``; each one that is not, named in ``errors``."""
    known = {member.value: member for member in allowed}
    for value in values:
        if value not in known:
            errors.append(FieldError(name, f"{value!r} is not one of: {', '.join(known)}"))
    return tuple(known[value] for value in values if value in known)


def compile_filters(
    filters: Filters, taxonomy: TaxonomyRegistry, table: Table = reports
) -> list[ColumnElement[bool]]:
    """SQL conditions for ``filters``; unknown codes and countries are a 422 naming the filter."""
    columns = table.c
    current = taxonomy.current
    errors: list[FieldError] = []
    conditions: list[ColumnElement[bool]] = []
    if filters.status:
        conditions.append(columns.status.in_(filters.status))
    if filters.sharing:
        conditions.append(columns.sharing.in_(filters.sharing))
    if filters.event_type:
        conditions.append(columns.event_type == filters.event_type)
    if filters.min_severity:
        ordinal = current.dimension("severity").ordinal(filters.min_severity)
        if ordinal is None:
            errors.append(
                FieldError(
                    "min_severity",
                    unknown_code(
                        "severity", filters.min_severity, current.dimensions.get("severity"), ""
                    ),
                )
            )
        else:
            conditions.append(columns.severity_ordinal >= ordinal)
    for name, values in filters.codes:
        field = BY_NAME[name]
        dimension_name, column_name, is_array = field.dimension, field.column, field.many
        codes: set[str] = set()
        for value in values:
            if value not in current.dimension(dimension_name).codes:
                known = current.dimensions.get(dimension_name)
                errors.append(FieldError(name, unknown_code(dimension_name, value, known, "")))
                continue
            codes |= equivalents(taxonomy, dimension_name, value)
        column = columns[column_name]
        if codes:
            wanted = sorted(codes)
            conditions.append(
                column.overlap(text_array(wanted)) if is_array else column.in_(wanted)
            )
    if filters.language:
        conditions.append(columns.language.in_(filters.language))
    countries = country_set(filters, taxonomy, errors)
    if countries is not None:
        conditions.append(columns.jurisdictions.overlap(text_array(sorted(countries) or [""])))
    if filters.reporting_jurisdiction:
        conditions.append(columns.reporting_jurisdiction.in_(filters.reporting_jurisdiction))
    if filters.cross_border is not None:
        many = func.cardinality(columns.jurisdictions) > 1
        conditions.append(many if filters.cross_border else ~many)
    if filters.occurred_from:
        conditions.append(columns.occurred_on >= filters.occurred_from)
    if filters.occurred_to:
        conditions.append(columns.occurred_on <= filters.occurred_to)
    if filters.submitted_from:
        conditions.append(
            func.date(func.timezone("UTC", columns.submitted_at)) >= filters.submitted_from
        )
    if filters.submitted_to:
        conditions.append(
            func.date(func.timezone("UTC", columns.submitted_at)) <= filters.submitted_to
        )
    if filters.organization:
        conditions.append(columns.organization_id == filters.organization)
    if filters.incident:
        conditions.append(
            columns.incident_id.in_(
                select(incidents.c.id).where(
                    or_(
                        incidents.c.ref == filters.incident,
                        incidents.c.id == _as_uuid(filters.incident),
                    )
                )
            )
        )
    if filters.q:
        conditions.append(text_match(filters.q, table))
    if errors:
        raise ValidationFailed("Invalid filter", errors=errors)
    return conditions


def text_array(values: list[str]) -> ColumnElement[Any]:
    """A text[] value: typed so that it compares with text[] columns, bound or inlined."""
    return cast(values, ARRAY(Text))


def text_match(query: str, table: Table = reports) -> ColumnElement[bool]:
    """PostgreSQL full-text search over the stored document, the query read as written and
    stemmed in each language the registry stems (migration 0013); a word the registry's
    vocabulary does not know also matches its nearest known words (a typo still finds it)."""
    document = table.c.search_vector
    corrected = select(func.reports_search_corrected(query)).scalar_subquery()
    return or_(
        document.bool_op("@@")(func.reports_search_query(query)),
        document.bool_op("@@")(corrected),
    )


def text_rank(query: str, table: Table = reports) -> Any:
    columns = table.c
    return func.ts_rank(columns.search_vector, func.reports_search_query(query)) + (
        func.word_similarity(query, columns.title)
    )


def equivalents(taxonomy: TaxonomyRegistry, dimension: str, code: str) -> set[str]:
    """The code and every code of any loaded version that was retired in its favour."""
    found = {code}
    for version in taxonomy.versions.values():
        known = version.dimensions.get(dimension)
        if known is None:
            continue
        for candidate in known.codes:
            if candidate not in found and taxonomy.resolve(dimension, candidate) == code:
                found.add(candidate)
    return found


def country_set(
    filters: Filters, taxonomy: TaxonomyRegistry, errors: list[FieldError]
) -> set[str] | None:
    """jurisdiction / region / sub_region / development, combined (AND) into one country set."""
    countries = taxonomy.current.countries
    sets: list[set[str]] = []
    if filters.jurisdiction:
        unknown = [code for code in filters.jurisdiction if code not in countries]
        errors.extend(
            FieldError("jurisdiction", f"{code!r} is not an ISO 3166-1 country") for code in unknown
        )
        sets.append(set(filters.jurisdiction))
    for field, attribute in (("region", "region"), ("sub_region", "sub_region")):
        wanted = getattr(filters, field)
        if wanted:
            known = {getattr(country, attribute) for country in countries.values()}
            errors.extend(
                FieldError(field, f"{name!r} is not a UN M49 {field.replace('_', '-')}")
                for name in wanted
                if name not in known
            )
            sets.append(
                {
                    code
                    for code, country in countries.items()
                    if getattr(country, attribute) in wanted
                }
            )
    if filters.development:
        sets.append(
            {
                code
                for code, country in countries.items()
                if country.development == filters.development
            }
        )
    if not sets:
        return None
    chosen = sets[0]
    for other in sets[1:]:
        chosen &= other
    return chosen


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


FILTERS = {"filters": Provide(provide_filters, sync_to_thread=False)}
