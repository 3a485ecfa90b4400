"""The method notes of a brief, generated from the parameters it was actually made with."""

from __future__ import annotations

from incidents.briefs.figures import ALPHA, EMERGING_HISTORY, TOP_PAIRS
from incidents.briefs.schemas import AuditSummary, BriefRequest
from incidents.trends.periods import Period
from incidents.trends.protection import Method


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
