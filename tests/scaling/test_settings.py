"""The replica settings: refused with the variable named when they cannot work."""

from __future__ import annotations

import pytest

from incidents.config import SettingsError, settings_from_env

PRIMARY = "postgresql://incidents@db-primary:5432/incidents"


def test_a_replica_url_is_read_with_its_bound() -> None:
    settings = settings_from_env(
        {
            "INCIDENTS_DATABASE_URL": PRIMARY,
            "INCIDENTS_READ_DATABASE_URL": "postgresql://incidents@db-replica:5432/incidents",
            "INCIDENTS_READ_MAX_LAG_SECONDS": "0.5",
        }
    )
    assert settings.read_database_url == "postgresql://incidents@db-replica:5432/incidents"
    assert settings.read_max_lag_seconds == 0.5


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"INCIDENTS_DATABASE_URL": PRIMARY, "INCIDENTS_READ_DATABASE_URL": "mysql://x/y"},
            "INCIDENTS_READ_DATABASE_URL: the scheme must be postgresql://",
        ),
        (
            {"INCIDENTS_READ_DATABASE_URL": "postgresql://incidents@db-replica/incidents"},
            "INCIDENTS_READ_DATABASE_URL: a replica needs its primary in INCIDENTS_DATABASE_URL",
        ),
        (
            {"INCIDENTS_DATABASE_URL": PRIMARY, "INCIDENTS_READ_MAX_LAG_SECONDS": "0"},
            "INCIDENTS_READ_MAX_LAG_SECONDS: Expected `float` >= 0.1",
        ),
    ],
)
def test_a_replica_setting_that_cannot_work_is_refused_by_name(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(environ)
    assert message in str(raised.value)
