"""Every figure of a brief, from one read of the registry, protected as for the public (a brief
is made to be published) and audited as linked tables before it can be published.

This module reads the registry once, collects once, says which figures a brief has, and runs the
steps in order: counting and protecting each figure (figures.py), checking what all of them
together reveal, withholding more where they reveal too much (audit.py), assembling the tables
and headline from the protected figures (tables.py), and writing the method notes (notes.py).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from datetime import date

import msgspec
import polars as pl

from incidents.briefs.audit import audit_figures
from incidents.briefs.figures import (
    TOP_COUNTRIES,
    TOP_PAIRS,
    Book,
    Calendar,
    Geography,
    Layout,
    Universe,
    count,
)
from incidents.briefs.notes import notes
from incidents.briefs.schemas import (
    BriefData,
    BriefRequest,
    Figure,
    Protection,
    check_period,
    scope_filters,
)
from incidents.briefs.tables import assemble
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends import metrics
from incidents.trends.columnar import Copy
from incidents.trends.periods import today
from incidents.trends.protection import Method
from incidents.trends.service import Reference, load

Progress = Callable[[str], None]


async def compute(
    url: str,
    taxonomy: TaxonomyRegistry,
    request: BriefRequest,
    method: Method,
    progress: Progress | None = None,
    copy: Copy | None = None,
) -> BriefData:
    """All the figures of a brief, protected for publication and audited (its reports read
    from the columnar ``copy`` of the trends when one is given)."""
    step = progress or (lambda _: None)
    kind, start = check_period(request.period, request.provisional)
    filters = scope_filters(request.scope)
    step("reading the registry")
    source = await load(
        url, None, filters, taxonomy, k=method.k, noise=method.noise, brief=True, copy=copy
    )
    reference = source.reference
    # The job's one collect: everything below works on these frames.
    selected, raw, countries = pl.collect_all(
        [
            metrics.dated(source.incidents, kind),
            source.reports.join(source.incidents.select("incident"), on="incident"),
            reference.countries,
        ]
    )
    as_of = today()
    elapsed = (as_of - start).days + 1 if request.provisional else None
    if elapsed is not None:
        # Like for like: every period is counted on its first `elapsed` days only.
        offset = (pl.col("occurred_on") - pl.col("period")).dt.total_days()
        selected = selected.with_columns(_within=pl.col("year_only") | (offset < elapsed)).filter(
            pl.col("_within")
        )
    step("computing the figures")
    calendar = Calendar.of(kind, start)
    earliest = calendar.earliest
    # Only the incidents of the periods the brief shows or compares with.
    incidents = selected.filter(
        pl.when(pl.col("year_only"))
        .then(pl.col("period").dt.year() >= earliest.year)
        .otherwise(pl.col("period") >= earliest)
    ).with_columns(_key=pl.col("incident_key"))
    reports = raw.filter(pl.col("submitted_on").is_not_null()).with_columns(
        _key=pl.col("report_key"),
        _period=metrics.period_start("submitted_on", kind),
        _delay=(pl.col("submitted_on") - pl.coalesce("detected_on", "occurred_on")).dt.total_days(),
    )
    book = Book()
    layout = _plan(book, calendar, request, reference, countries, incidents, reports)
    memberships: dict[Universe, pl.DataFrame] = {
        "incidents": book.membership("incidents", incidents),
        "reports": book.membership("reports", reports),
    }
    figures = {
        name: figure
        for members in memberships.values()
        for name, figure in count(members, method).items()
    }
    layout = _leaders(book, layout, figures, request.scope)

    step("auditing what the figures reveal together")
    audited = audit_figures(book, figures, memberships, method)

    filed = _filed(start)
    public_filers = set(
        reports.filter(filed & (pl.col("sharing") == "TLP:CLEAR"))["reporting_jurisdiction"]
        .drop_nulls()
        .to_list()
    )
    named = sorted(
        code
        for code in layout.jurisdictions
        if code in public_filers or audited.figures[f"filed_by|{code}"].status == "published"
    )
    step("assembling the brief")
    published = assemble(
        layout,
        audited.figures,
        named=named,
        delays=reports.filter(filed)["_delay"],
        countries=countries,
        scope=request.scope,
        method=method,
    )
    labels = reference.labels
    return BriefData(
        title=f"AI incident risk brief {request.period}",
        period=request.period,
        period_kind=kind,
        scope=dict(request.scope),
        provisional=request.provisional,
        as_of=as_of,
        days_compared=elapsed,
        taxonomy_version=taxonomy.current.version,
        input_hash=_input_hash(raw),
        protection=Protection(
            method="cell-key perturbation",
            k=method.k,
            noise=method.noise,
            description=method.describe(),
        ),
        audit=audited.summary,
        headline=published.headline,
        tables=published.tables,
        labels={
            name: labels[name] for name in ("harm_domain", "harm_subdomain", "severity", "country")
        },
        notes=notes(kind, request, method, audited.summary, elapsed),
    )


def _input_hash(frame: pl.DataFrame) -> str:
    """SHA-256 of the brief's input rows in a canonical order and encoding: the same rows give
    the same hash whether read from the registry or the columnar copy. Strings and binaries are
    written in Arrow's oldest layout (offsets and one data buffer): Polars' own view layout
    depends on where the values were read from, not only on the values."""
    ordered = (
        frame.select(sorted(frame.columns))
        .sort(["incident", "occurred_on", "submitted_at", "report_key"], nulls_last=True)
        .rechunk()
    )
    buffer = io.BytesIO()
    ordered.write_ipc(buffer, compression="uncompressed", compat_level=pl.CompatLevel.oldest())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def _filed(start: date) -> pl.Expr:
    """Regulators' filings in the period (of incidents in scope)."""
    return (pl.col("filer_kind") == "regulator") & (pl.col("_period") == start)


def _plan(
    book: Book,
    calendar: Calendar,
    request: BriefRequest,
    reference: Reference,
    countries: pl.DataFrame,
    incidents: pl.DataFrame,
    reports: pl.DataFrame,
) -> Layout:
    """Every figure the brief may publish, into ``book``, and where each one stands."""
    start, previous, year_ago = calendar.start, calendar.previous, calendar.year_ago

    def at(day: date) -> pl.Expr:
        return (pl.col("period") == day) & ~pl.col("year_only")

    def total(day: date, *, shown: bool = True) -> str:
        return book.add(f"total|{calendar.label(day)}", "incidents", at(day), shown=shown)

    def cell(dimension: str, value: str, day: date, *, shown: bool = True) -> str:
        if dimension in {"region", "sub_region", "development"}:
            codes = countries.filter(pl.col(dimension) == value)["code"].to_list()
            member = pl.col("country").list.eval(pl.element().is_in(codes)).list.any()
        elif dimension == "severity":
            member = pl.col("severity") == value
        else:
            member = pl.col(dimension).list.contains(value)
        name = f"{dimension}|{value}|{calendar.label(day)}"
        return book.add(name, "incidents", at(day) & member, shown=shown)

    for day in calendar.trend:
        total(day)
    total(year_ago)
    year_only: list[str] = []
    if calendar.kind != "year":
        for year in range(calendar.trend[0].year, start.year + 1):
            year_only.append(
                book.add(
                    f"year_only|{year}",
                    "incidents",
                    pl.col("year_only") & (pl.col("period").dt.year() == year),
                )
            )
    cross = book.add(
        f"cross_border|{request.period}", "incidents", at(start) & pl.col("cross_border")
    )
    serious = book.add(f"serious|{request.period}", "incidents", at(start) & pl.col("serious"))
    domains = reference.categories["harm_domain"]
    for code in domains:
        for day in (start, previous, year_ago):
            cell("harm_domain", code, day)
    for code in reference.categories["severity"]:
        cell("severity", code, start)
    geography = _breakdowns(request.scope, reference, countries)
    for breakdown in geography:
        for value in breakdown.values:
            # Country lists of all members are shown for their top entries only (_leaders).
            shown = (
                breakdown.dimension != "country"
                or "region" in request.scope
                or ("sub_region" in request.scope)
            )
            cell(breakdown.dimension, value, start, shown=shown)
            if breakdown.year_ago:
                cell(breakdown.dimension, value, year_ago, shown=shown)
    subdomains = reference.categories["harm_subdomain"]
    in_history = pl.col("period").is_in(calendar.history) & ~pl.col("year_only")
    for code in subdomains:
        cell("harm_subdomain", code, start)
        book.add(
            f"harm_subdomain|{code}|history",
            "incidents",
            in_history & pl.col("harm_subdomain").list.contains(code),
        )
        for day in calendar.history:
            cell("harm_subdomain", code, day, shown=False)
    history_total = book.add("total|history", "incidents", in_history)
    for day in calendar.history:
        total(day, shown=False)
    # Country pairs: every pair is counted, the top ones above the band are shown.
    pairs = (
        incidents.filter(at(start) & pl.col("cross_border"))
        .select("incident", pl.col("country").alias("a"))
        .explode("a")
    )
    pair_names = (
        pairs.join(pairs.select("incident", pl.col("a").alias("b")), on="incident")
        .filter(pl.col("a") < pl.col("b"))
        .select("a", "b")
        .unique()
        .sort(["a", "b"])
    )
    home = _scope_countries(request.scope, countries)
    if home is not None:
        # A place's brief shows the pairs that join it to others, not pairs elsewhere.
        pair_names = pair_names.filter(pl.col("a").is_in(home) | pl.col("b").is_in(home))
    for a, b in pair_names.iter_rows():
        book.add(
            f"pair|{a}|{b}",
            "incidents",
            at(start)
            & pl.col("cross_border")
            & pl.col("country").list.contains(a)
            & pl.col("country").list.contains(b),
            shown=False,
        )
    filed = _filed(start)
    timely = {"reports": book.add(f"filed|{request.period}", "reports", filed)}
    for days in metrics.DEADLINES:
        timely[f"within_{days}_days"] = book.add(
            f"filed_within|{days}|{request.period}", "reports", filed & (pl.col("_delay") <= days)
        )
    jurisdictions = sorted(
        reports.filter(filed)["reporting_jurisdiction"].drop_nulls().unique().to_list()
    )
    for code in jurisdictions:
        book.add(
            f"filed_by|{code}",
            "reports",
            filed & (pl.col("reporting_jurisdiction") == code),
            shown=False,
        )
    return Layout(
        calendar=calendar,
        label=request.period,
        year_only=year_only,
        cross_border=cross,
        serious=serious,
        domains=domains,
        severities=reference.categories["severity"],
        geography=geography,
        subdomains=subdomains,
        history_total=history_total,
        timely=timely,
        jurisdictions=jurisdictions,
    )


def _leaders(
    book: Book, layout: Layout, figures: Mapping[str, Figure], scope: Mapping[str, str]
) -> Layout:
    """Shown from the data, but only above the band: which pairs and countries lead."""

    def top(prefix: str, size: int) -> list[str]:
        ranked = sorted(
            (
                (figures[name].value or 0, name)
                for name in book.names("incidents")
                if name.startswith(prefix) and figures[name].status == "published"
            ),
            key=lambda item: (-item[0], item[1]),
        )
        return [name for _, name in ranked[:size]]

    top_pairs = top("pair|", TOP_PAIRS)
    book.shown |= set(top_pairs)
    countries_shown: list[str] = []
    if not scope.keys() & {"region", "sub_region", "jurisdiction"}:
        countries_shown = top("country|", TOP_COUNTRIES)
        book.shown |= set(countries_shown)
    return msgspec.structs.replace(layout, top_pairs=top_pairs, countries_shown=countries_shown)


def _scope_countries(scope: Mapping[str, str], countries: pl.DataFrame) -> list[str] | None:
    """The countries a geographic scope names (None: not a geographic scope)."""
    if "jurisdiction" in scope:
        return [scope["jurisdiction"]]
    for field in ("sub_region", "region"):
        if field in scope:
            return countries.filter(pl.col(field) == scope[field])["code"].to_list()
    return None


def _breakdowns(
    scope: Mapping[str, str], reference: Reference, countries: pl.DataFrame
) -> list[Geography]:
    """The scope's own geography: regions and the top countries for all members; a region's
    sub-regions and countries; a sub-region's countries; nothing below one country."""
    if "jurisdiction" in scope:
        return []
    if "sub_region" in scope:
        inside = countries.filter(pl.col("sub_region") == scope["sub_region"])
        return [Geography("countries", "country", inside["code"].to_list(), True)]
    if "region" in scope:
        inside = countries.filter(pl.col("region") == scope["region"])
        subs = sorted(set(inside["sub_region"].to_list()) - {""})
        return [
            Geography("sub_regions", "sub_region", subs, True),
            Geography("countries", "country", inside["code"].to_list(), False),
        ]
    return [
        Geography("regions", "region", reference.categories["region"], True),
        Geography("countries", "country", reference.categories["country"], False),
    ]
