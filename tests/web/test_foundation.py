"""The pages' building blocks: navigation per audience, the language per request, the API's
error tree placed beside form fields, and the TLP labels."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from incidents.errors import FieldError
from incidents.languages.negotiation import negotiate
from incidents.members.schemas import Principal
from incidents.web.forms import FormErrors
from incidents.web.pages import EVERYONE, MEMBERS, SIGNED_OUT, NavItem, PageGroup, navigation_for
from incidents.web.templating import environment, tlp_label


def _principal(kind: str) -> Principal:
    return Principal(
        organization_id=uuid.uuid4(),
        organization_name="Org",
        kind=kind,  # type: ignore[arg-type]  # the kinds used here are valid
        jurisdiction="KE" if kind == "regulator" else None,
        key_id=uuid.uuid4(),
        key_prefix="inc_AbCdEfGh",
    )


GROUPS = [
    PageGroup(
        name="test",
        handlers=[],
        navigation=[
            NavItem("Search", "/search", EVERYONE),
            NavItem("Sign in", "/sign-in", SIGNED_OUT),
            NavItem("Explore", "/explore", MEMBERS),
            NavItem("My reports", "/my-reports", frozenset({"regulator"})),
            NavItem("Review", "/review", frozenset({"secretariat"})),
        ],
    )
]


def _labels(kind: str | None) -> list[str]:
    principal = None if kind is None else _principal(kind)
    return [item.label for item in navigation_for(GROUPS, principal)]


def test_navigation_shows_each_audience_its_own_items() -> None:
    assert _labels(None) == ["Search", "Sign in"]
    assert _labels("regulator") == ["Search", "Explore", "My reports"]
    assert _labels("research") == ["Search", "Explore"]
    assert _labels("secretariat") == ["Search", "Explore", "Review"]


def test_the_language_follows_accept_language_among_shipped_catalogs() -> None:
    shipped = ("en", "fr", "es")
    assert negotiate(None, shipped) == "en"
    assert negotiate("fr-CA,fr;q=0.9,en;q=0.5", shipped) == "fr"
    assert negotiate("de,es;q=0.8", shipped) == "es"
    assert negotiate("zh", shipped) == "en"
    assert negotiate("fr;q=0", shipped) == "en"
    assert negotiate("en;q=bogus,es", shipped) == "es"


def test_the_api_error_tree_lands_beside_its_fields() -> None:
    errors = FormErrors(
        [
            FieldError("title", "Expected a string of at most 300 characters"),
            FieldError("harms[0].domain", "Unknown harm domain '9.9'"),
            FieldError("ai_system.name", "Required"),
            FieldError("mystery", "Not a field of this form"),
        ],
        fields=["title", "harms", "ai_system_name"],
        aliases={"ai_system.name": "ai_system_name"},
    )
    assert errors("title") == ["Expected a string of at most 300 characters"]
    assert errors("harms") == ["Unknown harm domain '9.9'"]
    assert errors("ai_system_name") == ["Required"]
    assert errors("summary") == []
    # Nothing the API said is dropped: what no field claims is listed on its own.
    assert [error.field for error in errors.unplaced] == ["mystery"]
    assert len(errors.placed()) == 3


def test_tlp_labels_carry_their_level_and_escape_anything_else() -> None:
    assert tlp_label("TLP:AMBER") == "<span class='tlp tlp-amber'>TLP:AMBER</span>"
    assert "<script>" not in tlp_label("<script>")


def test_templates_escape_what_they_show() -> None:
    rendered = environment().from_string("{{ value }} {{ _('Home') }}").render(value="<b>x</b>")
    assert rendered == "&lt;b&gt;x&lt;/b&gt; Home"


def test_web_settings_are_read_from_the_environment() -> None:
    from incidents.config import SettingsError, settings_from_env

    settings = settings_from_env(
        {
            "INCIDENTS_WEB_SESSION_HOURS": "2",
            "INCIDENTS_WEB_IDLE_MINUTES": "5",
            "INCIDENTS_WEB_SECURE_COOKIES": "true",
            "INCIDENTS_WEB_SECRET": "s" * 40,
        }
    )
    assert (settings.web_session_hours, settings.web_idle_minutes) == (2.0, 5.0)
    assert settings.web_secure_cookies is True
    with pytest.raises(SettingsError, match="INCIDENTS_WEB_SECRET"):
        settings_from_env({"INCIDENTS_WEB_SECRET": "short"})


def test_the_csrf_secret_is_kept_for_every_worker(tmp_path: Path) -> None:
    from incidents.config import Settings
    from incidents.web.router import csrf_secret

    first = csrf_secret(Settings(data_dir=tmp_path))
    assert csrf_secret(Settings(data_dir=tmp_path)) == first
    assert (tmp_path / "web-secret").stat().st_mode & 0o077 == 0
    assert csrf_secret(Settings(data_dir=tmp_path, web_secret="x" * 40)) == "x" * 40
