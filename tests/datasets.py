"""Where the shared real data lives: INCIDENTS_AIID_SNAPSHOT, or ../shared/datasets beside the
repository (never copied in)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: Where the tests look for the AI Incident Database snapshot unless the variable says otherwise.
DEFAULT_AIID_SNAPSHOT = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "aiid-snapshot"
)
AIID_VARIABLE = "INCIDENTS_AIID_SNAPSHOT"
AIID_FILES = ("incidents.csv", "classifications_MIT.csv")


def aiid_snapshot() -> Path:
    """The snapshot's directory. Named by INCIDENTS_AIID_SNAPSHOT, it must be there (a wrong
    path fails the test); without the variable, a test skips when the default path is empty,
    and says how to point it at a snapshot."""
    given = os.environ.get(AIID_VARIABLE)
    folder = Path(given).expanduser() if given else DEFAULT_AIID_SNAPSHOT
    missing = [name for name in AIID_FILES if not (folder / name).is_file()]
    if missing and given:
        pytest.fail(f"{AIID_VARIABLE}={given} holds no {', '.join(missing)}")
    if missing:
        pytest.skip(
            f"no AIID snapshot at {folder}: set {AIID_VARIABLE} to a directory with "
            f"{', '.join(AIID_FILES)} (see README, 'Real data')"
        )
    return folder
