"""The database engine: SQLite (WAL) by default, PostgreSQL in production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from veiviser.errors import StorageUnavailable

# A writer waits this long for another process's write lock before giving up.
SQLITE_BUSY_MS = 10_000


def create_engine_for(url: str) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL.

    SQLite gets WAL mode (readers never block the writer), foreign keys and a
    busy timeout, and its folder is created. PostgreSQL goes through psycopg 3
    with connections tested before use, so a restarted server is survived.

    Raises:
        StorageUnavailable: the URL is malformed or names another database.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StorageUnavailable(f"The database URL {url!r} is malformed.") from error
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, parsed.database)
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        # Parameters hold members' (masked) words; keep them out of errors.
        return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    raise StorageUnavailable(
        f"The database URL names {backend!r}; expected sqlite or postgresql.",
        details={"backend": backend},
    )


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False}, hide_parameters=True
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    # WAL with synchronous=NORMAL stays consistent after a crash and may lose
    # only the last commits on power loss, which a chat log can afford.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)
