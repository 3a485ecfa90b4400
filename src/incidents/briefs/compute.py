"""Every figure of a brief, from one read of the registry, protected as for the public (a brief
is made to be published) and audited as linked tables before it can be published.

Each published count is a "figure": a condition on incidents (or on reports, for timeliness
and coverage) with its exact count and its cell key. Figures are protected one by one
(trends/protection.py), shares and changes are computed from the protected figures, and the
audit (audit.py) checks what all of them together reveal; where it finds a cell too narrowly
bounded, more figures are withheld until none is.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, Literal

import msgspec
import polars as pl

from incidents.briefs import audit as auditing
from incidents.briefs.schemas import (
    AuditSummary,
    BriefData,
    BriefRequest,
    Figure,
    Protection,
    check_period,
    scope_filters,
)
from incidents.taxonomy.service import TaxonomyRegistry
from incidents.trends import emerging as emerging_test
from incidents.trends import metrics
from incidents.trends.periods import PER_YEAR, Period, shift, today
from incidents.trends.protection import KEY_SPACE, Method, published
from incidents.trends.service import Reference, load

TREND_PERIODS = {"month": 12, "quarter": 8, "year": 5}
# Periods before the tested one that emerging risks compare it with.
EMERGING_HISTORY = {"month": 24, "quarter": 12, "year": 6}
TOP_PAIRS = 10
TOP_COUNTRIES = 15
ALPHA = 0.05
MAX_WITHHELD_ROUNDS = 200
Progress = Callable[[str], None]
Universe = Literal["incidents", "reports"]


class _Book:
    """The conditions of every figure a brief may publish, evaluated together."""

    def __init__(self) -> None:
        self.conditions: dict[str, tuple[Universe, pl.Expr]] = {}
        self.shown: set[str] = set()

    def add(self, name: str, universe: Universe, condition: pl.Expr, *, shown: bool = True) -> str:
        self.conditions.setdefault(name, (universe, condition))
        if shown:
            self.shown.add(name)
        return name

    def names(self, universe: Universe) -> list[str]:
        return [name for name, (kind, _) in self.conditions.items() if kind == universe]

    def membership(self, universe: Universe, frame: pl.DataFrame) -> pl.DataFrame:
        names = self.names(universe)
        if not names:
            return pl.DataFrame()
        return frame.select(
            pl.col("_key"),
            *(self.conditions[name][1].fill_null(False).alias(name) for name in names),
        )


def _counted(membership: pl.DataFrame, method: Method) -> dict[str, tuple[int, Figure]]:
    """Exact count and protected figure of every column of ``membership``."""
    names = [name for name in membership.columns if name != "_key"]
    if not names:
        return {}
    sums = membership.select(
        *(pl.col(name).sum().cast(pl.Int64).alias(name) for name in names)
    ).row(0)
    keys = membership.select(
        *(
            (pl.col("_key").filter(pl.col(name)).cast(pl.Int64).sum() % KEY_SPACE).alias(name)
            for name in names
        )
    ).row(0)
    table = pl.DataFrame(
        {"name": names, "n": list(sums), "key": [int(key or 0) for key in keys]},
        schema={"name": pl.String, "n": pl.Int64, "key": pl.Int64},
    )
    value, banded = published(pl.col("n"), pl.col("key"), method)
    shown = table.with_columns(value=value, banded=banded)
    return {
        row["name"]: (
            row["n"],
            Figure(value=row["value"], status="below_k" if row["banded"] else "published"),
        )
        for row in shown.iter_rows(named=True)
    }


def _input_hash(frame: pl.DataFrame) -> str:
    ordered = frame.select(sorted(frame.columns)).sort(
        ["incident", "occurred_on", "submitted_at", "report_key"], nulls_last=True
    )
    buffer = io.BytesIO()
    ordered.write_ipc(buffer, compression="uncompressed")
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def _label(kind: Period, day: date) -> str:
    if kind == "year":
        return str(day.year)
    if kind == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def _ratio(numerator: Figure, denominator: Figure) -> float | None:
    if numerator.value is None or not denominator.value:
        return None
    return round(numerator.value / denominator.value, 4)


def _change(now: Figure, before: Figure) -> float | None:
    if now.value is None or not before.value:
        return None
    return round((now.value - before.value) / before.value, 4)


class _Geography(msgspec.Struct):
    title: str
    dimension: Literal["region", "sub_region", "country"]
    values: list[str]
    year_ago: bool


def _scope_countries(scope: dict[str, str], reference: Reference) -> list[str] | None:
    """The countries a geographic scope names (None: not a geographic scope)."""
    if "jurisdiction" in scope:
        return [scope["jurisdiction"]]
    countries = reference.countries.collect()
    for field in ("sub_region", "region"):
        if field in scope:
            return countries.filter(pl.col(field) == scope[field])["code"].to_list()
    return None


def _breakdowns(scope: dict[str, str], reference: Reference) -> list[_Geography]:
    """The scope's own geography: regions and the top countries for all members; a region's
    sub-regions and countries; a sub-region's countries; nothing below one country."""
    countries = reference.countries.collect()
    if "jurisdiction" in scope:
        return []
    if "sub_region" in scope:
        inside = countries.filter(pl.col("sub_region") == scope["sub_region"])
        return [_Geography("countries", "country", inside["code"].to_list(), True)]
    if "region" in scope:
        inside = countries.filter(pl.col("region") == scope["region"])
        subs = sorted(set(inside["sub_region"].to_list()) - {""})
        return [
            _Geography("sub_regions", "sub_region", subs, True),
            _Geography("countries", "country", inside["code"].to_list(), False),
        ]
    return [
        _Geography("regions", "region", reference.categories["region"], True),
        _Geography("countries", "country", reference.categories["country"], False),
    ]


async def compute(
    url: str,
    taxonomy: TaxonomyRegistry,
    request: BriefRequest,
    method: Method,
    progress: Progress | None = None,
) -> BriefData:
    """All the figures of a brief, protected for publication and audited."""
    step = progress or (lambda _: None)
    kind, start = check_period(request.period, request.provisional)
    filters = scope_filters(request.scope)
    step("reading the registry")
    source = await load(url, None, filters, taxonomy, k=method.k, noise=method.noise, brief=True)
    reference = source.reference
    incidents_lf = metrics.dated(source.incidents, kind)
    selected, raw = pl.collect_all(
        [incidents_lf, source.reports.join(source.incidents.select("incident"), on="incident")]
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
    book = _Book()
    per_year = PER_YEAR[kind]
    previous, year_ago = shift(start, kind, -1), shift(start, kind, -per_year)
    trend_days = [shift(start, kind, -back) for back in range(TREND_PERIODS[kind] - 1, -1, -1)]
    history_days = [shift(start, kind, -back) for back in range(EMERGING_HISTORY[kind], 0, -1)]
    earliest = min(history_days[0], year_ago, trend_days[0])
    # Only the incidents of the periods the brief shows or compares with.
    frame = selected.filter(
        pl.when(pl.col("year_only"))
        .then(pl.col("period").dt.year() >= earliest.year)
        .otherwise(pl.col("period") >= earliest)
    ).with_columns(_key=pl.col("incident_key"))
    reports = raw.filter(pl.col("submitted_on").is_not_null()).with_columns(
        _key=pl.col("report_key"),
        _period=metrics.period_start("submitted_on", kind),
        _delay=(pl.col("submitted_on") - pl.coalesce("detected_on", "occurred_on")).dt.total_days(),
    )

    def at(day: date) -> pl.Expr:
        return (pl.col("period") == day) & ~pl.col("year_only")

    def total(day: date, *, shown: bool = True) -> str:
        return book.add(f"total|{_label(kind, day)}", "incidents", at(day), shown=shown)

    def cell(dimension: str, value: str, day: date, *, shown: bool = True) -> str:
        if dimension in {"region", "sub_region", "development"}:
            codes = (
                reference.countries.filter(pl.col(dimension) == value)
                .select("code")
                .collect()["code"]
                .to_list()
            )
            member = pl.col("country").list.eval(pl.element().is_in(codes)).list.any()
        elif dimension == "severity":
            member = pl.col("severity") == value
        else:
            member = pl.col(dimension).list.contains(value)
        name = f"{dimension}|{value}|{_label(kind, day)}"
        return book.add(name, "incidents", at(day) & member, shown=shown)

    for day in trend_days:
        total(day)
    total(year_ago)
    year_only: list[str] = []
    if kind != "year":
        for year in range(trend_days[0].year, start.year + 1):
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
    geography = _breakdowns(request.scope, reference)
    for breakdown in geography:
        for value in breakdown.values:
            # Country lists of all members are shown for their top entries only (below).
            shown = (
                breakdown.dimension != "country"
                or "region" in request.scope
                or ("sub_region" in request.scope)
            )
            cell(breakdown.dimension, value, start, shown=shown)
            if breakdown.year_ago:
                cell(breakdown.dimension, value, year_ago, shown=shown)
    subdomains = reference.categories["harm_subdomain"]
    in_history = pl.col("period").is_in(history_days) & ~pl.col("year_only")
    for code in subdomains:
        cell("harm_subdomain", code, start)
        book.add(
            f"harm_subdomain|{code}|history",
            "incidents",
            in_history & pl.col("harm_subdomain").list.contains(code),
        )
        for day in history_days:
            cell("harm_subdomain", code, day, shown=False)
    history_total = book.add("total|history", "incidents", in_history)
    for day in history_days:
        total(day, shown=False)
    # Country pairs: every pair is counted, the top ones above the band are shown.
    pairs = (
        frame.filter(at(start) & pl.col("cross_border"))
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
    home = _scope_countries(request.scope, reference)
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
    # Reports: regulators' filings in the period, of incidents in scope.
    filed = (pl.col("filer_kind") == "regulator") & (pl.col("_period") == start)
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

    incident_members = book.membership("incidents", frame)
    report_members = book.membership("reports", reports)
    counted = {**_counted(incident_members, method), **_counted(report_members, method)}
    figures = {name: figure for name, (_, figure) in counted.items()}
    exact = {name: n for name, (n, _) in counted.items()}

    # Shown from the data, but only above the band: which pairs and countries lead.
    top_pairs = sorted(
        (
            (figures[name].value or 0, name)
            for name in book.names("incidents")
            if name.startswith("pair|") and figures[name].status == "published"
        ),
        key=lambda item: (-item[0], item[1]),
    )[:TOP_PAIRS]
    book.shown |= {name for _, name in top_pairs}
    countries_shown: list[str] = []
    if not request.scope.keys() & {"region", "sub_region", "jurisdiction"}:
        leaders = sorted(
            (
                (figures[name].value or 0, name)
                for name in book.names("incidents")
                if name.startswith("country|") and figures[name].status == "published"
            ),
            key=lambda item: (-item[0], item[1]),
        )[:TOP_COUNTRIES]
        countries_shown = [name for _, name in leaders]
        book.shown |= set(countries_shown)

    step("auditing what the figures reveal together")
    summary = _audit(book, figures, incident_members, report_members, method)

    public_filers = set(
        reports.filter(filed & (pl.col("sharing") == "TLP:CLEAR"))["reporting_jurisdiction"]
        .drop_nulls()
        .to_list()
    )
    named = sorted(
        code
        for code in jurisdictions
        if code in public_filers or figures[f"filed_by|{code}"].status == "published"
    )
    delays = reports.filter(filed)["_delay"]
    step("assembling the brief")

    def fig(name: str) -> Figure:
        return figures[name]

    def cell_row(name: str, prefix: str = "") -> dict[str, Any]:
        figure = fig(name)
        return {f"{prefix}incidents": figure.value, f"{prefix}status": figure.status}

    label = request.period
    this_total = fig(f"total|{label}")
    before_total = fig(f"total|{_label(kind, previous)}")
    ago_total = fig(f"total|{_label(kind, year_ago)}")
    tables: dict[str, list[dict[str, Any]]] = {}
    tables["trend"] = [
        {"period": _label(kind, day), **cell_row(f"total|{_label(kind, day)}")}
        for day in trend_days
    ]
    tables["year_only"] = [
        {"year": int(name.split("|")[1]), **cell_row(name)} for name in year_only
    ]
    tables["harm_domains"] = [
        {
            "harm_domain": code,
            **cell_row(f"harm_domain|{code}|{label}"),
            **cell_row(f"harm_domain|{code}|{_label(kind, previous)}", "previous_"),
            **cell_row(f"harm_domain|{code}|{_label(kind, year_ago)}", "year_ago_"),
            "change_previous": _change(
                fig(f"harm_domain|{code}|{label}"),
                fig(f"harm_domain|{code}|{_label(kind, previous)}"),
            ),
            "change_year_ago": _change(
                fig(f"harm_domain|{code}|{label}"),
                fig(f"harm_domain|{code}|{_label(kind, year_ago)}"),
            ),
        }
        for code in domains
    ]
    tables["severity"] = [
        {"severity": code, **cell_row(f"severity|{code}|{label}")}
        for code in reference.categories["severity"]
    ]
    for breakdown in geography:
        if breakdown.dimension == "country" and countries_shown:
            values = [name.split("|")[1] for name in countries_shown]
        else:
            values = breakdown.values
        rows = []
        for value in values:
            row: dict[str, Any] = {
                breakdown.dimension: value,
                **cell_row(f"{breakdown.dimension}|{value}|{label}"),
            }
            if breakdown.year_ago:
                ago = f"{breakdown.dimension}|{value}|{_label(kind, year_ago)}"
                row.update(cell_row(ago, "year_ago_"))
                row["change_year_ago"] = _change(
                    fig(f"{breakdown.dimension}|{value}|{label}"), fig(ago)
                )
            rows.append(row)
        tables[breakdown.title] = rows
    tables["country_pairs"] = [
        {"a": name.split("|")[1], "b": name.split("|")[2], **cell_row(name)}
        for _, name in top_pairs
    ]
    tables["emerging_risks"] = _emerging(
        figures, subdomains, history_days, start, kind, method, label
    )
    history_figure = fig(history_total)
    for row in tables["emerging_risks"]:
        row["share"] = _ratio(fig(f"harm_subdomain|{row['harm_subdomain']}|{label}"), this_total)
        row["history_share"] = _ratio(
            fig(f"harm_subdomain|{row['harm_subdomain']}|history"), history_figure
        )
    filed_figure = fig(timely["reports"])
    tables["timeliness"] = [
        {
            "reports": filed_figure.value,
            "reports_status": filed_figure.status,
            "median_days": float(delays.median())  # type: ignore[arg-type]  # numeric median
            if filed_figure.status == "published" and delays.len()
            else None,
            **{
                f"within_{days}_days": _ratio(fig(timely[f"within_{days}_days"]), filed_figure)
                for days in metrics.DEADLINES
            },
            **{
                f"within_{days}_days_status": fig(timely[f"within_{days}_days"]).status
                for days in metrics.DEADLINES
            },
        }
    ]
    tables["coverage"] = _coverage(named, reference, request.scope)
    headline = {
        "incidents": this_total.value,
        "incidents_status": this_total.status,
        "previous": before_total.value,
        "year_ago": ago_total.value,
        "change_previous": _change(this_total, before_total),
        "change_year_ago": _change(this_total, ago_total),
        "cross_border": fig(cross).value,
        "cross_border_status": fig(cross).status,
        "cross_border_share": _ratio(fig(cross), this_total),
        "serious": fig(serious).value,
        "serious_status": fig(serious).status,
        "reporting_jurisdictions": len(named),
        "inhabited_jurisdictions": sum(row["inhabited"] for row in tables["coverage"]),
        "median_days_to_report": tables["timeliness"][0]["median_days"],
        "within_15_days": tables["timeliness"][0]["within_15_days"],
        "emerging": [row["harm_subdomain"] for row in tables["emerging_risks"] if row["emerging"]],
    }
    del exact  # exact counts never leave this function
    labels = reference.labels
    return BriefData(
        title=f"AI incident risk brief {label}",
        period=label,
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
        audit=summary,
        headline=headline,
        tables=tables,
        labels={
            name: labels[name] for name in ("harm_domain", "harm_subdomain", "severity", "country")
        },
        notes=notes(kind, request, method, summary, elapsed),
    )


def _audit(
    book: _Book,
    figures: dict[str, Figure],
    incident_members: pl.DataFrame,
    report_members: pl.DataFrame,
    method: Method,
) -> AuditSummary:
    """Audit the shown figures; withhold more until every protected cell's interval is at
    least k wide, or give up (the brief then cannot be published).

    Withholding a figure removes a bound and so only widens intervals: after the first round,
    only the cells that failed are checked again.
    """
    shown = [name for name in book.conditions if name in book.shown]
    widths: dict[str, float] = {}
    pending: set[str] | None = None
    withheld = 0
    passed = False
    for _ in range(MAX_WITHHELD_ROUNDS):
        failing: list[auditing.Interval] = []
        for universe, members in (("incidents", incident_members), ("reports", report_members)):
            names = [name for name in shown if book.conditions[name][0] == universe]
            protected = [
                name
                for name in names
                if figures[name].status == "below_k" and (pending is None or name in pending)
            ]
            if not protected:
                continue
            found = auditing.intervals(members, _bounds(names, figures, method), protected)
            for name, interval in found.items():
                widths[name] = interval.width
                if interval.width < method.k:
                    failing.append(interval)
        pending = {name for name, width in widths.items() if width < method.k}
        if not failing:
            passed = True
            break
        # Withhold the smallest published figure that holds a failing interval in.
        binding = {
            name
            for interval in failing
            for name in interval.binding
            if figures[name].status == "published"
        }
        if not binding:
            break
        candidate = min(binding, key=lambda name: (figures[name].value or 0, name))
        figures[candidate] = Figure(value=None, status="withheld")
        withheld += 1
    return AuditSummary(
        passed=passed,
        protected_cells=len(widths),
        narrowest=min(widths.values(), default=None),
        required=method.k,
        withheld=withheld,
    )


def _bounds(
    names: Iterable[str], figures: dict[str, Figure], method: Method
) -> dict[str, tuple[float, float]]:
    bounds: dict[str, tuple[float, float]] = {}
    for name in names:
        figure = figures[name]
        if figure.status == "withheld":
            continue
        if figure.status == "below_k" or figure.value is None:
            bounds[name] = (0.0, float(method.k - 1 + method.noise))
        else:
            bounds[name] = (
                float(max(0, figure.value - method.noise)),
                float(figure.value + method.noise),
            )
    return bounds


def _emerging(
    figures: dict[str, Figure],
    subdomains: list[str],
    history_days: list[date],
    start: date,
    kind: Period,
    method: Method,
    label: str,
) -> list[dict[str, Any]]:
    """The emerging-risk test on the protected counts: a history figure in the band counts as
    k - 1 (which only makes the test more cautious); a period figure in the band is not
    assessed (p = 1), but stays in the family."""
    days = [*history_days, start]

    def value(name: str) -> float:
        figure = figures[name]
        return float(figure.value) if figure.value is not None else float(method.k - 1)

    history = pl.DataFrame(
        [
            {
                "period": day,
                "harm_subdomain": code,
                "incidents": value(f"harm_subdomain|{code}|{_label(kind, day)}"),
            }
            for day in days
            for code in subdomains
        ]
    )
    totals = pl.DataFrame(
        [{"period": day, "incidents": value(f"total|{_label(kind, day)}")} for day in days]
    )
    assessed = [
        figures[f"harm_subdomain|{code}|{label}"].status == "published" for code in subdomains
    ]
    tested = emerging_test.emerging(
        history, totals, "harm_subdomain", subdomains, alpha=ALPHA, assessed=assessed
    )
    rows = []
    for row, code in zip(tested.iter_rows(named=True), subdomains, strict=True):
        now = figures[f"harm_subdomain|{code}|{label}"]
        before = figures[f"harm_subdomain|{code}|history"]
        rows.append(
            {
                "harm_subdomain": code,
                "incidents": now.value,
                "status": now.status,
                "history_incidents": before.value,
                "history_status": before.status,
                "p_value": round(float(row["p_value"]), 6),
                "q_value": round(float(row["q_value"]), 6),
                "assessed": bool(row["assessed"]),
                "emerging": bool(row["emerging"]),
            }
        )
    return rows


def _coverage(
    named: list[str], reference: Reference, scope: dict[str, str]
) -> list[dict[str, Any]]:
    """Per region: the inhabited jurisdictions of the scope and those that reported."""
    countries = reference.countries.collect()
    if "inhabited" in countries.columns:
        countries = countries.filter(pl.col("inhabited"))
    countries = countries.filter(pl.col("region") != "")
    for field in ("region", "sub_region"):
        if field in scope:
            countries = countries.filter(pl.col(field) == scope[field])
    if "jurisdiction" in scope:
        countries = countries.filter(pl.col("code") == scope["jurisdiction"])
    if "development" in scope:
        countries = countries.filter(pl.col("development") == scope["development"])
    rows = []
    for (region,), group in countries.group_by("region", maintain_order=False):
        codes = group["code"].to_list()
        reporting = sorted(code for code in named if code in set(codes))
        rows.append(
            {
                "region": region,
                "inhabited": len(codes),
                "reporting": len(reporting),
                "share": round(len(reporting) / len(codes), 4) if codes else None,
                "which": reporting,
            }
        )
    return sorted(rows, key=lambda row: str(row["region"]))


def notes(
    kind: Period,
    request: BriefRequest,
    method: Method,
    summary: AuditSummary,
    elapsed: int | None,
) -> list[str]:
    """The method notes, generated from the parameters actually used."""
    unit = {"month": "months", "quarter": "quarters", "year": "years"}[kind]
    found: list[str] = []
    if elapsed is not None:
        found.append(
            f"Provisional: {request.period} is not over. Each period is compared on its first "
            f"{elapsed} days only, the same number of days as have passed of this one; "
            "reports of recent events keep arriving for weeks, so the figures will rise."
        )
    found += [
        "Counts are incidents, not reports: an event reported by several jurisdictions counts "
        "once. Only reports the secretariat accepted count, whatever their sharing level. An "
        "incident's date, affected countries, codes and severity are the incident's own, from "
        "all of its accepted reports: the highest severity any of them gives, every country and "
        "code any of them names, and the earliest date given at the finest precision any of "
        "them gives.",
        "Countries, regions and cross-border incidents are about the jurisdictions affected, "
        "not the regulator that reported; an incident is cross-border when it affected more "
        "than one country. Coverage is about the reporting regulators.",
        "Counts reflect reporting capacity as much as harm: the coverage table shows which "
        "inhabited jurisdictions (UN M49 members and territories with a population) reported. A "
        f"jurisdiction is named when it filed a public report in the period or at least "
        f"{method.k} reports; one that filed fewer, and none of them public, is not named, so "
        "that no restricted report is revealed by it.",
        f"Incidents whose date is known only to the year are counted apart from the {unit} "
        "(the 'year known only' figures), never in the year's first period.",
        f"Protection: {method.describe()}. Shares and changes are computed from the published "
        "figures. The same figure is the same wherever it appears, here or in the trends API, "
        "because its noise belongs to the records it counts.",
        "Audit: every published count of this brief was treated as one set of linked tables; "
        "for each count published as 'fewer than "
        f"{method.k}', the smallest and largest values it can take given all the others were "
        f"found by linear programming (HiGHS). Required: an interval at least {method.k} wide. "
        + (
            f"Result: passed, {summary.protected_cells} protected counts, the narrowest "
            f"interval {summary.narrowest:.1f} wide"
            if summary.passed and summary.narrowest is not None
            else "Result: passed, no protected counts"
            if summary.passed
            else f"Result: FAILED ({summary.protected_cells} protected counts): this brief "
            "cannot be published"
        )
        + (
            f"; {summary.withheld} more figures were withheld (shown as 'withheld') to reach it."
            if summary.withheld
            else "."
        ),
        f"Country pairs: the {TOP_PAIRS} pairs of affected countries joined by the most "
        f"cross-border incidents, among pairs published at {method.k} or more.",
        "Emerging risks: every subdomain of the taxonomy is tested (none is chosen by looking "
        f"at {request.period}), against its own history of {EMERGING_HISTORY[kind]} {unit}. "
        "Two one-sided p-values are computed and the larger is kept: a prediction test on the "
        "log share of incidents, whose spread comes from the subdomain's own history and is "
        f"compared with a Student t on {EMERGING_HISTORY[kind] - 1} degrees of freedom (this "
        "holds on data whose shares wobble from period to period beyond chance, as real "
        "reporting does), and an exact conditional binomial test (right at small counts). "
        f"Subdomains are flagged at a Benjamini-Hochberg false discovery rate of {ALPHA:.0%}; "
        f"under no change at all a brief flags anything with probability at most {ALPHA:.0%} "
        "(checked by simulation with share wobble up to 0.3 on the log scale). The test uses "
        f"the protected counts: a history count below {method.k} counts as {method.k - 1}, and "
        f"a subdomain counting fewer than {method.k} incidents in the period is not assessed.",
        "Repeated briefs and scopes: each brief is one family of tests. Briefs are not "
        "corrected for one another: over a year of quarterly briefs a false flag in one of "
        "them is to be expected now and then, and a subdomain flagged in consecutive briefs is "
        "stronger evidence than one flag. A brief scoped to a region, sector or other category "
        "is a family of its own: its flags are exploratory and read beside the all-members "
        "brief of the same period.",
        "Timeliness: days from detection (or occurrence when detection is unknown) to "
        "submission, for regulators' reports submitted in the period, against the EU AI Act "
        "Art. 73 deadlines of 2, 10 and 15 days.",
    ]
    return found
