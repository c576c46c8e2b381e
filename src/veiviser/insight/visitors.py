"""Anonymous visitors: a random browser id, stored only as a keyed hash.

The widget keeps a random id in the browser's storage and sends it when it
opens a conversation. The server keeps only HMAC-SHA256(secret, id), with a
secret that lives in the database (so every process uses the same one) and
can be rotated. The hash is never joined with anything that names a member,
also not when the member is logged in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from veiviser.store.models import utc_now
from veiviser.store.models_insight import InsightSecret

# UUIDs and the widget's hex fallback; anything else is ignored, not an error,
# because a visitor id is optional and never worth refusing a chat over.
_VISITOR_ID = re.compile(r"^[A-Za-z0-9-]{16,64}$")


def valid_visitor_id(value: str | None) -> str | None:
    """The visitor id if it has the shape the widget sends, else None."""
    if value is None:
        return None
    value = value.strip()
    return value if _VISITOR_ID.match(value) else None


def current_secret(session: Session) -> str:
    """The active secret, created on first use.

    Two processes creating it at the same instant both insert; the oldest
    active row wins for both, so they agree on the hash.
    """
    secret = _active_secret(session)
    if secret is None:
        session.add(InsightSecret(secret=secrets.token_hex(32)))
        session.flush()
        secret = _active_secret(session)
    assert secret is not None
    return secret


def rotate_secret(session: Session) -> None:
    """Retire every active secret and start a new one. The caller commits.

    Visitors seen before count as new afterwards; old hashes cannot be
    linked to new ones, which is the point of rotating.
    """
    session.execute(
        update(InsightSecret)
        .where(InsightSecret.retired_at.is_(None))
        .values(retired_at=utc_now())
    )
    session.add(InsightSecret(secret=secrets.token_hex(32)))
    session.flush()


# Limitation: "returning" means seen within the retention window, because
# the hash is deleted with its conversation; keeping first-seen days per hash
# beyond retention would retire this, at the cost of a longer-lived trace.
def visitor_hash(session: Session, visitor_id: str | None) -> str | None:
    """The stored form of a visitor id, or None when there is none to store."""
    visitor = valid_visitor_id(visitor_id)
    if visitor is None:
        return None
    key = current_secret(session).encode("ascii")
    return hmac.new(key, visitor.encode("ascii"), hashlib.sha256).hexdigest()


def _active_secret(session: Session) -> str | None:
    return session.scalar(
        select(InsightSecret.secret)
        .where(InsightSecret.retired_at.is_(None))
        .order_by(InsightSecret.id)
        .limit(1)
    )
