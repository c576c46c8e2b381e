"""Alembic environment: runs on the connection that upgrade_database gives."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from veiviser.store.models import Base

# Any fixed number; all veiviser processes take the same lock.
_MIGRATION_LOCK = 727_411


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "Run migrations through veiviser.store.upgrade_database, "
            "which passes the connection."
        )
    if connection.dialect.name == "postgresql":
        # Several server processes may start at once; one migrates at a time.
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("Offline (SQL script) migrations are not supported.")
run_migrations_online()
