"""Copies of the shipped taxonomy with deliberate changes, for tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from incidents.paths import taxonomy_dir


def copy_shipped(destination: Path) -> Path:
    shutil.copytree(taxonomy_dir(), destination)
    return destination


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= count, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def make_version_2(destination: Path) -> Path:
    """Version 2: ai_task 'event_detection' retired in favour of a new 'anomaly_detection',
    and harm_type 'public_interest' relabelled."""
    directory = copy_shipped(destination)
    edit(directory / "manifest.toml", "version = 1", "version = 2")
    edit(directory / "manifest.toml", "released = 2026-11-27", "released = 2027-06-01")
    tasks = directory / "dimensions" / "ai_task.toml"
    edit(
        tasks,
        'code = "event_detection"\n',
        'code = "event_detection"\nretired_in = 2\nreplaced_by = "anomaly_detection"\n',
    )
    with tasks.open("a", encoding="utf-8") as handle:
        handle.write(
            '\n[[codes]]\ncode = "anomaly_detection"\norder = 10\n'
            'label = { en = "Anomaly and event detection" }\n'
            'definition = { en = "Finding unusual patterns or events in data streams." }\n'
        )
    edit(
        directory / "dimensions" / "harm_type.toml",
        'label = { en = "Public interest" }',
        'label = { en = "Harm to the public interest" }',
    )
    return directory
