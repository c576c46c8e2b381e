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
from pathlib import Path

import jwt
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from veiviser.members.csv_import import import_members
from veiviser.store.models_members import Member, MemberKey

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
