"""Demo members and the demo portal's signing key (demo mode only).

The demo members in ``veiviser/demo/members/`` are fictional: names made up,
e-mail addresses under ``.example``, numbers that could not be real. In demo
mode they are imported into an empty directory, and the demo portal signs
them in with a key kept in the database, so that every server process
verifies what any of them signed.
"""

from __future__ import annotations

import csv
import secrets
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jwt
from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from veiviser.members.csv_import import (
    import_members,
    read_member_folder,
    replace_directory,
)
from veiviser.members.records import MemberRecord
from veiviser.members.tables import TableDirectory
from veiviser.store.models import Base
from veiviser.store.models_members import DIRECTORY_TABLES, Member, MemberKey

DEMO_MEMBERS = Path(__file__).resolve().parent.parent / "demo" / "members"
DEMO_ISSUER = "veiviser-demo-min-side"
DEMO_KEY_NAME = "demo-portal"
# Short on purpose, so the demo shows the widget asking for a fresh token.
DEMO_TOKEN_SECONDS = 300


@dataclass(frozen=True)
class DemoMember:
    """A fictional member the demo portal can sign in as."""

    id: str
    first_name: str
    last_name: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def demo_members() -> list[DemoMember]:
    """The fictional members shipped with veiviser, in file order."""
    with (DEMO_MEMBERS / "members.csv").open(encoding="utf-8-sig", newline="") as f:
        return [
            DemoMember(row["id"], row["first_name"], row["last_name"])
            for row in csv.DictReader(f)
        ]


def demo_record(member_id: str) -> MemberRecord | None:
    """A fictional demo member's record, read from the shipped files only.

    The admin's preview of personal answers uses this: it never reads the
    directory in use, which holds real members outside demo mode.
    """
    if member_id not in {member.id for member in demo_members()}:
        return None
    return _demo_directory().lookup(member_id)


@cache
def _demo_directory() -> TableDirectory:
    # The shipped files in a private in-memory database, read by the same
    # code as the built-in directory, so the preview fills exactly as the
    # chat would.
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    tables = [Base.metadata.tables[name] for name in DIRECTORY_TABLES]
    Base.metadata.create_all(engine, tables=tables)
    sessions = sessionmaker(engine)
    with sessions.begin() as session:
        replace_directory(session, read_member_folder(DEMO_MEMBERS))
    return TableDirectory(sessions)


def ensure_demo_members(sessions: sessionmaker[Session]) -> bool:
    """Import the demo members into an empty directory; True if imported."""
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(Member)):
            return False
    try:
        import_members(sessions, DEMO_MEMBERS)
    except IntegrityError:
        # Another process imported them at the same moment.
        return False
    return True


def demo_secret(sessions: sessionmaker[Session]) -> str:
    """The demo portal's HS256 secret, made once and shared through the database."""
    with sessions() as session:
        row = session.get(MemberKey, DEMO_KEY_NAME)
        if row is not None:
            return row.secret
    try:
        with sessions.begin() as session:
            session.add(MemberKey(name=DEMO_KEY_NAME, secret=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process made it first; use theirs
    with sessions() as session:
        row = session.get(MemberKey, DEMO_KEY_NAME)
        assert row is not None
        return row.secret


def sign_demo_token(
    secret: str,
    member_id: str,
    audience: str,
    *,
    issuer: str = DEMO_ISSUER,
    lifetime_seconds: int = DEMO_TOKEN_SECONDS,
) -> str:
    """A login token as a member portal would sign it (HS256)."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": member_id,
        "iat": now,
        "exp": now + lifetime_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
