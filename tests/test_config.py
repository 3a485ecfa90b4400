from __future__ import annotations

from pathlib import Path

import pytest

from incidents.config import SettingsError, settings_from_env
from incidents.paths import taxonomy_dir


def test_settings_read_typed_values_from_prefixed_environment() -> None:
    settings = settings_from_env(
        {
            "INCIDENTS_PORT": "9000",
            "INCIDENTS_DATA_DIR": "/srv/registry",
            "INCIDENTS_LOG_FORMAT": "json",
            "INCIDENTS_SUPPRESSION_K": "10",
            "UNRELATED": "x",
        }
    )
    assert settings.port == 9000
    assert settings.data_dir == Path("/srv/registry")
    assert settings.log_format == "json"
    assert settings.suppression_k == 10
    assert settings.database_url is None


def test_explicit_overrides_win_over_environment() -> None:
    settings = settings_from_env({"INCIDENTS_PORT": "9000"}, overrides={"port": 9100, "host": None})
    assert settings.port == 9100
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("INCIDENTS_PORT", "eighty", "Expected `int`"),
        ("INCIDENTS_PORT", "70000", "<= 65535"),
        ("INCIDENTS_LOG_FORMAT", "xml", "Invalid enum value 'xml'"),
        ("INCIDENTS_WORKERS", "0", ">= 1"),
    ],
)
def test_a_bad_value_names_the_variable_and_the_reason(
    variable: str, value: str, reason: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env({variable: value})
    message = str(raised.value)
    assert message.startswith(f"{variable}: ")
    assert reason in message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "mysql://user:secret@localhost/x",
            "the scheme must be postgresql:// (this service runs on PostgreSQL only), not mysql://",
        ),
        ("localhost:5432/registry", "not a URL; write postgresql://"),
    ],
)
def test_a_database_url_that_is_not_postgres_names_the_variable(url: str, reason: str) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env({"INCIDENTS_DATABASE_URL": url})
    assert str(raised.value).startswith(f"INCIDENTS_DATABASE_URL: {reason}")
    assert "secret" not in str(raised.value)


def test_the_taxonomy_is_the_bundled_one_unless_a_directory_is_named(tmp_path: Path) -> None:
    assert settings_from_env({}).taxonomy_dir == taxonomy_dir()
    assert (taxonomy_dir() / "manifest.toml").is_file()
    named = settings_from_env({"INCIDENTS_TAXONOMY_DIR": str(tmp_path)})
    assert named.taxonomy_dir == tmp_path
