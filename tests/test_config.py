from __future__ import annotations

from pathlib import Path

import pytest

from incidents.config import SettingsError, settings_from_env


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
