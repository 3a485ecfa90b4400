"""EU AI Act Art. 73 reporting deadlines of a serious incident, counted from when the regulator
became aware of it (the detection date; the occurrence date when that is unknown):
2 days for a serious and irreversible disruption of critical infrastructure (Art. 3(49)(b)),
10 days where a person died, 15 days otherwise."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

import msgspec

State = Literal["met", "late", "due", "overdue"]


class Deadline(msgspec.Struct, frozen=True):
    days: int
    due: date
    state: State
    days_left: int
    """Days until the deadline (negative once past); for reports not yet submitted."""


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None  # a year or a month only: no day to count from


def art73_deadline(report: Any, today: date) -> Deadline | None:
    """The deadline of a report (a Report or the API's JSON of one); None when Art. 73 does not
    apply (no serious-incident category) or no day of awareness is known."""

    def get(name: str) -> Any:
        return report.get(name) if isinstance(report, dict) else getattr(report, name, None)

    categories = get("eu_serious_incident") or []
    if not categories:
        return None
    start = _day(get("detected_on")) or _day(get("occurred_on"))
    if start is None:
        return None
    if "b" in categories:
        days = 2
    elif "a" in categories and (get("deaths") or 0) > 0:
        days = 10
    else:
        days = 15
    due = start + timedelta(days=days)
    submitted = _day(get("submitted_at"))
    if submitted is not None:
        return Deadline(days, due, "met" if submitted <= due else "late", (due - submitted).days)
    left = (due - today).days
    return Deadline(days, due, "due" if left >= 0 else "overdue", left)
