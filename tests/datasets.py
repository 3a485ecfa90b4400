"""Where the shared real data lives: ../shared/datasets beside the repository (never copied in)."""

from __future__ import annotations

from pathlib import Path

import pytest

AIID_SNAPSHOT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "aiid-snapshot"


def aiid_snapshot() -> Path:
    if not (AIID_SNAPSHOT / "incidents.csv").exists():
        pytest.skip(f"the AIID snapshot is not at {AIID_SNAPSHOT}")
    return AIID_SNAPSHOT
