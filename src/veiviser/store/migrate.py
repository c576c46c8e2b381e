"""Running the Alembic migrations shipped inside the package."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from veiviser.store.engine import create_engine_for

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration that needs no alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade_database(url: str | Engine) -> None:
    """Bring the database up to the newest schema (creating it if empty).

    Args:
        url: a database URL, or an engine already made for one.
    """
    engine = create_engine_for(url) if isinstance(url, str) else url
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    log.info("database schema is current (%s)", engine.url.get_backend_name())
    if isinstance(url, str):
        engine.dispose()
