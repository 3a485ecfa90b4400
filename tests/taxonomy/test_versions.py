"""Releasing versions: idempotent loads, immutable codes, resolve across versions, diff."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncConnection

from incidents.audit.service import Actor
from incidents.cli import main
from incidents.errors import Conflict
from incidents.paths import taxonomy_dir
from incidents.taxonomy.changes import diff
from incidents.taxonomy.files import TaxonomyInvalid, read_directory
from incidents.taxonomy.releases import store
from incidents.taxonomy.service import TaxonomyRegistry
from tests.taxonomy.helpers import copy_shipped, edit, make_version_2

ACTOR = Actor(label="test")


async def test_loading_the_same_version_again_changes_nothing(connection: AsyncConnection) -> None:
    document = read_directory(taxonomy_dir())
    result = await store(connection, ACTOR, document)
    assert result.version == 1
    assert result.created is False


async def test_a_released_version_number_cannot_carry_other_content(
    connection: AsyncConnection, tmp_path: Path
) -> None:
    directory = copy_shipped(tmp_path / "taxonomy")
    edit(
        directory / "dimensions/harm_type.toml",
        'label = { en = "Reputational" }',
        'label = { en = "Reputation" }',
    )
    with pytest.raises(Conflict, match="new version number"):
        await store(connection, ACTOR, read_directory(directory))


async def test_version_2_retires_and_relabels_and_resolve_follows(
    connection: AsyncConnection, tmp_path: Path
) -> None:
    version_2 = read_directory(make_version_2(tmp_path / "v2"))
    result = await store(connection, ACTOR, version_2)
    assert result.created
    registry = TaxonomyRegistry()
    await registry.refresh(connection, force=True)
    assert sorted(registry.versions) == [1, 2]
    assert registry.current.version == 2
    # A report coded under version 1 with the retired code lines up with current reports.
    assert "event_detection" in registry.get(1).dimension("ai_task").live
    assert "event_detection" not in registry.current.dimension("ai_task").live
    assert registry.resolve("ai_task", "event_detection") == "anomaly_detection"
    assert registry.resolve("ai_task", "forecasting") == "forecasting"

    changes = diff(registry.get(1).document, registry.current.document)
    summary = {(change.kind, change.dimension, change.code) for change in changes}
    assert summary == {
        ("added", "ai_task", "anomaly_detection"),
        ("retired", "ai_task", "event_detection"),
        ("relabelled", "harm_type", "public_interest"),
    }


async def test_a_version_older_than_the_current_one_is_refused(
    connection: AsyncConnection, tmp_path: Path
) -> None:
    version_2 = read_directory(make_version_2(tmp_path / "v2"))
    version_3 = msgspec.structs.replace(
        version_2, manifest=msgspec.structs.replace(version_2.manifest, version=3)
    )
    await store(connection, ACTOR, version_3)
    with pytest.raises(Conflict, match="older than the current version 3"):
        await store(connection, ACTOR, version_2)


async def test_a_new_version_may_not_drop_a_released_code(
    connection: AsyncConnection, tmp_path: Path
) -> None:
    directory = make_version_2(tmp_path / "v2")
    text = (directory / "dimensions/ai_task.toml").read_text()
    start = text.index('[[codes]]\ncode = "forecasting"')
    end = text.index("[[codes]]", start + 1)
    (directory / "dimensions/ai_task.toml").write_text(text[:start] + text[end:])
    with pytest.raises(TaxonomyInvalid) as raised:
        await store(connection, ACTOR, read_directory(directory))
    assert [(p.file, p.code) for p in raised.value.problems] == [
        ("dimensions/ai_task.toml", "forecasting")
    ]


def test_cli_load_and_diff(committed_database_url: str, tmp_path: Path) -> None:
    runner = CliRunner(env={"INCIDENTS_DATABASE_URL": committed_database_url})
    again = runner.invoke(main, ["taxonomy", "load"])
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    version_2 = make_version_2(tmp_path / "v2")
    loaded = runner.invoke(main, ["taxonomy", "load", str(version_2)])
    assert loaded.exit_code == 0, loaded.output
    assert "taxonomy version 2 loaded" in loaded.output
    compared = runner.invoke(main, ["taxonomy", "diff", "1", "2"])
    assert compared.exit_code == 0, compared.output
    assert "+ added      ai_task:anomaly_detection" in compared.output
    assert "- retired    ai_task:event_detection  replaced by anomaly_detection" in compared.output
    assert "~ relabelled harm_type:public_interest" in compared.output
    assert "3 change(s)" in compared.output
    from_directories = runner.invoke(
        main, ["taxonomy", "diff", str(taxonomy_dir()), str(version_2)]
    )
    assert "3 change(s)" in from_directories.output
