"""Fixtures shared by the storage, API, dialogue and CLI tests.

Imported by those modules (``from test_store_support import ...``); the
storage and API tests run once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from veiviser.content import KnowledgeBase
from veiviser.content.yaml_io import write_knowledge_base
from veiviser.service import Assistant
from veiviser.settings import Settings

SMALL_KB: dict[str, Any] = {
    "organisation": {
        "name": "Testforbundet",
        "assistant_name": "Veiviser",
        "phone": "22 33 44 55",
        "email": "post@testforbundet.example",
        "opening_hours": "Hverdager 09–15",
    },
    "groups": [{"id": "arbeid", "title": "Arbeidsliv"}],
    "intents": [
        {
            "id": "ferie",
            "title": "Ferie og feriepenger",
            "group": "arbeid",
            "phrases": [
                "hvor mange feriedager har jeg",
                "ferie",
                "når kan jeg ta ferie",
                "feriedager i året",
                "hvor lang ferie får jeg",
                "ferien min",
            ],
            "answer": "Du har **25 virkedager** ferie. [Les mer](https://ferie.example)",
            "buttons": [{"intent": "kontingent"}],
        },
        {
            "id": "kontingent",
            "title": "Kontingent",
            "phrases": [
                "hva koster medlemskapet",
                "kontingent",
                "pris på medlemskap",
                "hvor mye må jeg betale",
                "hva er kontingenten",
                "hvor dyrt er det å være medlem",
            ],
            "answer": "Kontingenten er 1 % av lønnen.",
            "buttons": [{"intent": "ferie", "label": "Ferie?"}],
        },
        {
            "id": "innmelding",
            "title": "Bli medlem",
            "handover": True,
            "phrases": [
                "hvordan melder jeg meg inn",
                "bli medlem",
                "innmelding",
                "jeg vil bli medlem",
                "melde meg inn i forbundet",
                "innmeldingsskjema",
            ],
            "answer": "Meld deg inn på nettsiden.",
        },
        {
            "id": "snakke_med_menneske",
            "title": "Snakke med et menneske",
            "handover": True,
            "phrases": [
                "jeg vil snakke med et menneske",
                "kan jeg få en person",
                "snakke med en rådgiver",
                "menneske takk",
                "sett meg over til en saksbehandler",
                "ekte person",
            ],
            "answer": "En rådgiver hjelper deg gjerne: ring 22 33 44 55.",
        },
        {
            "id": "utkast",
            "title": "Et utkast",
            "status": "draft",
            "phrases": ["dette er et utkast"],
            "answer": "Skal aldri vises.",
        },
    ],
    "decline_examples": [
        "hva blir været i morgen",
        "hvem vant fotballkampen i går",
        "oppskrift på pannekaker",
        "hvor er nærmeste bensinstasjon",
        "fortell meg en vits",
        "hva er hovedstaden i Frankrike",
        "kan du anbefale en film",
        "hvordan bytter jeg dekk på bilen",
    ],
}


def small_kb(**changes: Any) -> KnowledgeBase:
    """The small test knowledge base, with top-level sections replaced."""
    return KnowledgeBase.model_validate({**SMALL_KB, **changes})


def _postgres_database(base_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"veiviser_t_{secrets.token_hex(6)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            make_url(base_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'veiviser.db'}"
        return
    yield from _postgres_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite database file."""
    return f"sqlite:///{tmp_path / 'var' / 'veiviser.db'}"


def settings_for(database_url: str, kb_path: Path, **changes: Any) -> Settings:
    """Settings for a test: encoder off, fast model polling."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "encoder": "none",
        "kb": str(kb_path),
        "model_poll_seconds": 0.05,
        "cache_dir": str(kb_path.parent / "cache"),
    }
    return Settings(**{**values, **changes})


def write_kb(tmp_path: Path, kb: KnowledgeBase | None = None) -> Path:
    """Write a knowledge base to a YAML file in ``tmp_path``."""
    path = tmp_path / "kb.yaml"
    write_knowledge_base(kb or small_kb(), path)
    return path


def open_assistant(settings: Settings) -> Assistant:
    """An assistant with its knowledge base imported and its model loaded."""
    assistant = Assistant.open(settings)
    assistant.prepare()
    return assistant


@pytest.fixture
def assistant(database_url: str, tmp_path: Path) -> Iterator[Assistant]:
    """A ready assistant on the small knowledge base, on SQLite and PostgreSQL."""
    ready = open_assistant(settings_for(database_url, write_kb(tmp_path)))
    yield ready
    ready.close()
