"""Settings: declared once, read from VEIVISER_*, documented from the declaration."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from veiviser.settings import Settings, SettingsError, env_name, settings_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_settings_docs_are_current():
    assert DOCS.read_text(encoding="utf-8") == settings_markdown(), (
        "docs/settings.md is stale; run `veiviser settings --markdown > "
        "docs/settings.md`"
    )


def test_every_setting_has_help_and_appears_in_the_docs():
    table = settings_markdown()
    for item in fields(Settings):
        assert item.metadata["help"].strip()
        assert f"`{env_name(item.name)}`" in table


def test_environment_variables_are_cast_to_their_types():
    settings = Settings.from_env(
        {
            "VEIVISER_PORT": "9000",
            "VEIVISER_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "VEIVISER_MODEL_POLL_SECONDS": "2.5",
            "VEIVISER_HANDOVER_INTENT": "person",
        }
    )

    assert settings.port == 9000
    assert settings.allowed_origins == ("https://a.example", "https://b.example")
    assert settings.model_poll_seconds == 2.5
    assert settings.handover_intent == "person"


def test_a_value_that_does_not_fit_names_the_variable():
    with pytest.raises(SettingsError, match="VEIVISER_PORT"):
        Settings.from_env({"VEIVISER_PORT": "åtte tusen"})
