"""The method notes of a brief, generated from the parameters it was actually made with.

The brief's data keeps them in English (`notes`); a brief in another language words them again
from the same parameters, which the data also keeps (period, kind, k, noise, audit, days
compared), through the `briefs` catalog: no English sentence is left in a French brief.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable

from incidents.briefs.figures import ALPHA, EMERGING_HISTORY, TOP_PAIRS
from incidents.briefs.schemas import AuditSummary, BriefRequest
from incidents.trends.periods import Period
from incidents.trends.protection import Method


class Wording:
    """How the notes are worded: a catalog and the language's way of writing numbers (English:
    the catalog is empty and the numbers are Python's, as the stored notes have them)."""

    def __init__(
        self,
        translations: gettext.NullTranslations | None = None,
        number: Callable[[float], str] = lambda value: f"{value:,}",
        share: Callable[[float], str] = lambda value: f"{value:.0%}",
        decimal: Callable[[float], str] = lambda value: f"{value:.1f}",
    ) -> None:
        catalog = translations or gettext.NullTranslations()
        self.gettext, self.ngettext = catalog.gettext, catalog.ngettext
        self.number, self.share, self.decimal = number, share, decimal


def notes(
    kind: Period,
    request: BriefRequest,
    method: Method,
    summary: AuditSummary,
    elapsed: int | None,
) -> list[str]:
    """The method notes in English, generated from the parameters actually used."""
    return worded(kind, request.period, method, summary, elapsed, Wording())


def protection(method: Method, wording: Wording) -> str:
    """The protection's method in words (`Method.describe`, in the wording's language)."""
    weights = method.weights
    total = sum(weights)
    table = ", ".join(
        f"{step:+d}: {weight}/{total}"
        for step, weight in zip(range(-method.noise, method.noise + 1), weights, strict=True)
    )
    return wording.gettext(
        "cell-key perturbation: each published count is its exact value plus a noise between "
        "-{noise} and +{noise} fixed by the secret keys of the records it counts (probabilities "
        "{table}); counts below {k}, zero included, are published as 'fewer than {k}'"
    ).format(noise=method.noise, table=table, k=wording.number(method.k))


def worded(
    kind: Period,
    period: str,
    method: Method,
    summary: AuditSummary,
    elapsed: int | None,
    wording: Wording,
) -> list[str]:
    """The method notes in the wording's language."""
    _, number = wording.gettext, wording.number
    k = number(method.k)
    history = EMERGING_HISTORY[kind]
    spans = {
        "month": wording.ngettext("{count} month", "{count} months", history),
        "quarter": wording.ngettext("{count} quarter", "{count} quarters", history),
        "year": wording.ngettext("{count} year", "{count} years", history),
    }
    span = spans[kind].format(count=number(history))
    degrees = wording.ngettext(
        "{count} degree of freedom", "{count} degrees of freedom", history - 1
    ).format(count=number(history - 1))
    year_only = {
        "month": _(
            "Incidents whose date is known only to the year are counted apart from the months "
            "(the 'year known only' figures), never in the year's first period."
        ),
        "quarter": _(
            "Incidents whose date is known only to the year are counted apart from the quarters "
            "(the 'year known only' figures), never in the year's first period."
        ),
        "year": _(
            "Incidents whose date is known only to the year are counted apart from the years "
            "(the 'year known only' figures), never in the year's first period."
        ),
    }
    found: list[str] = []
    if elapsed is not None:
        found.append(
            _(
                "Provisional: {period} is not over. Each period is compared on its first {days} "
                "days only, the same number of days as have passed of this one; reports of "
                "recent events keep arriving for weeks, so the figures will rise."
            ).format(period=period, days=number(elapsed))
        )
    if summary.passed and summary.narrowest is not None:
        result = _(
            "Result: passed, {cells} protected counts, the narrowest interval {width} wide"
        ).format(cells=number(summary.protected_cells), width=wording.decimal(summary.narrowest))
    elif summary.passed:
        result = _("Result: passed, no protected counts")
    else:
        result = _(
            "Result: FAILED ({cells} protected counts): this brief cannot be published"
        ).format(cells=number(summary.protected_cells))
    withheld = (
        _("; {count} more figures were withheld (shown as 'withheld') to reach it.").format(
            count=number(summary.withheld)
        )
        if summary.withheld
        else "."
    )
    found += [
        _(
            "Counts are incidents, not reports: an event reported by several jurisdictions "
            "counts once. Only reports the secretariat accepted count, whatever their sharing "
            "level. An incident's date, affected countries, codes and severity are the "
            "incident's own, from all of its accepted reports: the highest severity any of them "
            "gives, every country and code any of them names, and the earliest date given at "
            "the finest precision any of them gives."
        ),
        _(
            "Countries, regions and cross-border incidents are about the jurisdictions "
            "affected, not the regulator that reported; an incident is cross-border when it "
            "affected more than one country. Coverage is about the reporting regulators."
        ),
        _(
            "Counts reflect reporting capacity as much as harm: the coverage table shows which "
            "inhabited jurisdictions (UN M49 members and territories with a population) "
            "reported. A jurisdiction is named when it filed a public report in the period or "
            "at least {k} reports; one that filed fewer, and none of them public, is not named, "
            "so that no restricted report is revealed by it."
        ).format(k=k),
        year_only[kind],
        _(
            "Protection: {method}. Shares and changes are computed from the published figures. "
            "The same figure is the same wherever it appears, here or in the trends API, "
            "because its noise belongs to the records it counts."
        ).format(method=protection(method, wording)),
        _(
            "Audit: every published count of this brief was treated as one set of linked "
            "tables; for each count published as 'fewer than {k}', the smallest and largest "
            "values it can take given all the others were found by linear programming (HiGHS). "
            "Required: an interval at least {k} wide. {result}{withheld}"
        ).format(k=k, result=result, withheld=withheld),
        _(
            "Country pairs: the {pairs} pairs of affected countries joined by the most "
            "cross-border incidents, among pairs published at {k} or more."
        ).format(pairs=number(TOP_PAIRS), k=k),
        _(
            "Emerging risks: every subdomain of the taxonomy is tested (none is chosen by "
            "looking at {period}), against its own history of {span}. Two one-sided p-values "
            "are computed and the larger is kept: a prediction test on the log share of "
            "incidents, whose spread comes from the subdomain's own history and is compared "
            "with a Student t on {degrees} (this holds on data whose shares wobble from period "
            "to period beyond chance, as real reporting does), and an exact conditional "
            "binomial test (right at small counts). Subdomains are flagged at a "
            "Benjamini-Hochberg false discovery rate of {alpha}; under no change at all a brief "
            "flags anything with probability at most {alpha} (checked by simulation with share "
            "wobble up to {wobble} on the log scale). The test uses the protected counts: a "
            "history count below {k} counts as {below}, and a subdomain counting fewer than {k} "
            "incidents in the period is not assessed."
        ).format(
            period=period,
            span=span,
            degrees=degrees,
            alpha=wording.share(ALPHA),
            wobble=wording.decimal(0.3),
            k=k,
            below=number(method.k - 1),
        ),
        _(
            "Repeated briefs and scopes: each brief is one family of tests. Briefs are not "
            "corrected for one another: over a year of quarterly briefs a false flag in one of "
            "them is to be expected now and then, and a subdomain flagged in consecutive briefs "
            "is stronger evidence than one flag. A brief scoped to a region, sector or other "
            "category is a family of its own: its flags are exploratory and read beside the "
            "all-members brief of the same period."
        ),
        _(
            "Timeliness: days from detection (or occurrence when detection is unknown) to "
            "submission, for regulators' reports submitted in the period, against the EU AI Act "
            "Art. 73 deadlines of {first}, {second} and {third} days."
        ).format(first=number(2), second=number(10), third=number(15)),
    ]
    return found
