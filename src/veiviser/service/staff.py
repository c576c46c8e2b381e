"""Staff accounts, logins, sessions and the throttling of failed logins.

Passwords are hashed with argon2id. A session is a random cookie value of
which only the SHA-256 is stored, with its own CSRF token. Failed logins are
rows in the database, so the limit holds however many server processes
there are.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from veiviser.errors import InvalidInput, NotFound, VeiviserError
from veiviser.service import revisions
from veiviser.store.models import utc_now
from veiviser.store.models_admin import (
    LoginAttempt,
    SetupToken,
    StaffAccount,
    StaffSession,
)

log = logging.getLogger(__name__)

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
MIN_PASSWORD_CHARS = 10
# argon2 works on the whole password; a cap keeps one login cheap.
MAX_PASSWORD_CHARS = 200
SETUP_LINK_HOURS = 24
# A session's last-seen time is written at most this often, not per request.
TOUCH_INTERVAL = timedelta(minutes=1)


class Role(StrEnum):
    """What a staff member may do; an administrator may do everything."""

    ADMINISTRATOR = "administrator"
    EDITOR = "editor"
    TRAINER = "trainer"
    ANALYST = "analyst"
    ADVISOR = "advisor"


@dataclass(frozen=True)
class StaffUser:
    """A logged-in staff member."""

    id: int
    username: str
    role: Role


@dataclass(frozen=True)
class AccountView:
    """An account as the user list shows it."""

    id: int
    username: str
    role: Role
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class OpenedSession:
    """A new session: the cookie value (shown only now) and its CSRF token."""

    cookie: str
    csrf_token: str
    user: StaffUser


@dataclass(frozen=True)
class ActiveSession:
    """The session behind a request's cookie."""

    user: StaffUser
    csrf_token: str


class AccountInvalid(InvalidInput):
    """A username, password or role that cannot be used; ``field`` names it."""

    code = "account_invalid"

    def __init__(self, message: str, *, field: str, reason: str) -> None:
        super().__init__(message, details={"field": field, "reason": reason})
        self.field = field
        self.reason = reason


class UsernameTaken(VeiviserError):
    """Another account already has this username."""

    status = 409
    code = "username_taken"


class LoginFailed(VeiviserError):
    """Wrong username or password (which of the two is not told)."""

    status = 401
    code = "login_failed"


class LoginThrottled(VeiviserError):
    """Too many failed logins; wait before trying again."""

    status = 429
    code = "login_throttled"

    def __init__(self, minutes: int) -> None:
        super().__init__(
            f"Too many failed logins; try again in {minutes} minutes.",
            details={"minutes": minutes},
        )
        self.minutes = minutes


class LastAdministrator(VeiviserError):
    """The change would leave no active administrator."""

    status = 409
    code = "last_administrator"


class SetupLinkInvalid(VeiviserError):
    """The first-administrator link is unknown, used, expired or no longer needed."""

    status = 404
    code = "setup_link_invalid"


@dataclass(frozen=True)
class Throttle:
    """How many failed logins are allowed within a window.

    Failures are counted per account and client address, so someone who
    knows a username cannot lock its owner out from another address. Two
    wider limits stop guessing that spreads out: one address trying many
    accounts, and many addresses trying one account.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    @property
    def max_client_failures(self) -> int:
        # One address may try several accounts (a shared office), but not many.
        return self.max_failures * 4

    @property
    def max_account_failures(self) -> int:
        # A ceiling for guesses from many addresses (a botnet). It is set far
        # above what one address may try, so that locking the owner out takes
        # twenty addresses each failing the limit within one window.
        return self.max_failures * 20


_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# --- Validation -----------------------------------------------------------


def clean_username(username: str) -> str:
    """The username as stored: stripped and lower-cased.

    Raises:
        AccountInvalid: the username is empty, too long or holds other
            characters than a-z, 0-9 and . _ @ -.
    """
    cleaned = (username or "").strip().lower()
    if not USERNAME.match(cleaned):
        raise AccountInvalid(
            f"Username {username[:80]!r} must be 2-64 characters: a-z, 0-9, . _ @ -",
            field="username",
            reason="username_format",
        )
    return cleaned


def check_password(password: str) -> str:
    """The password if it is long enough and not too long.

    Raises:
        AccountInvalid: shorter than 10 or longer than 200 characters.
    """
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AccountInvalid(
            f"The password must have at least {MIN_PASSWORD_CHARS} characters.",
            field="password",
            reason="password_short",
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountInvalid(
            f"The password may have at most {MAX_PASSWORD_CHARS} characters.",
            field="password",
            reason="password_long",
        )
    return password


def parse_role(value: str) -> Role:
    """The role named by ``value``.

    Raises:
        AccountInvalid: no role has that name.
    """
    try:
        return Role((value or "").strip().lower())
    except ValueError:
        raise AccountInvalid(
            f"Role {value[:40]!r} is not one of {[r.value for r in Role]}",
            field="role",
            reason="role_unknown",
        ) from None


# --- Accounts -------------------------------------------------------------


def create_account(
    sessions: sessionmaker[Session],
    username: str,
    password: str,
    role: Role | str,
    actor: str = revisions.SYSTEM,
) -> StaffUser:
    """Create an active account (``actor`` is who did, for the revision log).

    Raises:
        AccountInvalid: the username, password or role cannot be used.
        UsernameTaken: the username exists already.
    """
    name = clean_username(username)
    role = parse_role(role)
    hashed = _hasher.hash(check_password(password))
    try:
        with sessions.begin() as session:
            row = StaffAccount(
                username=name, password_hash=hashed, role=role.value, active=True
            )
            session.add(row)
            session.flush()
            user = StaffUser(row.id, row.username, role)
            after = revisions.account_snapshot(name, role.value, True)
            kind = revisions.USER_CREATED
            revisions.record_account(session, actor, kind, None, after)
    except IntegrityError:
        raise UsernameTaken(f"The username {name!r} is taken.") from None
    log.info("staff account %s created with role %s", name, role.value)
    return user


def list_accounts(sessions: sessionmaker[Session]) -> list[AccountView]:
    """Every account, by username."""
    with sessions() as session:
        rows = session.scalars(select(StaffAccount).order_by(StaffAccount.username))
        return [
            AccountView(r.id, r.username, Role(r.role), r.active, r.created_at)
            for r in rows
        ]


def get_account(sessions: sessionmaker[Session], user_id: int) -> AccountView:
    """One account.

    Raises:
        NotFound: no account has this id.
    """
    with sessions() as session:
        row = session.get(StaffAccount, user_id)
        if row is None:
            raise NotFound(f"No staff account has id {user_id}.")
        return AccountView(
            row.id, row.username, Role(row.role), row.active, row.created_at
        )


def set_password(
    sessions: sessionmaker[Session],
    user_id: int,
    password: str,
    actor: str = revisions.SYSTEM,
) -> None:
    """Give an account a new password and end all its sessions.

    The revision log records that it changed and when, never the password.

    Raises:
        AccountInvalid: the password is too short or too long.
        NotFound: no account has this id.
    """
    hashed = _hasher.hash(check_password(password))
    with sessions.begin() as session:
        row = _account(session, user_id)
        before = _password_snapshot(row)
        row.password_hash = hashed
        row.password_changed_at = utc_now()
        kind = revisions.USER_PASSWORD_RESET
        revisions.record_account(session, actor, kind, before, _password_snapshot(row))
        session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    log.info("password of staff account %s reset", row.username)


def _password_snapshot(row: StaffAccount) -> dict[str, str]:
    # When the password changed is all the log may know of it.
    changed = row.password_changed_at.isoformat()
    return {"username": row.username, "password_changed_at": changed}


def update_account(
    sessions: sessionmaker[Session],
    user_id: int,
    role: Role | str,
    active: bool,
    actor: str = revisions.SYSTEM,
) -> None:
    """Change an account's role and whether it may log in.

    A deactivated account's sessions end at once.

    Raises:
        AccountInvalid: the role is unknown.
        LastAdministrator: no active administrator would be left.
        NotFound: no account has this id.
    """
    role = parse_role(role)
    with sessions.begin() as session:
        row = _account(session, user_id)
        stays_admin = role is Role.ADMINISTRATOR and active
        if row.role == Role.ADMINISTRATOR and row.active and not stays_admin:
            _keep_an_administrator(session, user_id)
        before = revisions.account_snapshot(row.username, row.role, row.active)
        row.role, row.active = role.value, active
        after = revisions.account_snapshot(row.username, role.value, active)
        if after != before:
            kind = revisions.USER_CHANGED
            revisions.record_account(session, actor, kind, before, after)
        if not active:
            session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    log.info("staff account %s: role %s, active %s", row.username, role.value, active)


def _keep_an_administrator(session: Session, leaving_id: int) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(StaffAccount)
        .where(
            StaffAccount.role == Role.ADMINISTRATOR.value,
            StaffAccount.active.is_(True),
            StaffAccount.id != leaving_id,
        )
    )
    if not others:
        raise LastAdministrator("At least one active administrator must remain.")


def _account(session: Session, user_id: int) -> StaffAccount:
    row = session.get(StaffAccount, user_id, with_for_update=True)
    if row is None:
        raise NotFound(f"No staff account has id {user_id}.")
    return row


def has_administrator(sessions: sessionmaker[Session]) -> bool:
    """Whether an active administrator exists."""
    with sessions() as session:
        found = session.scalar(
            select(StaffAccount.id)
            .where(
                StaffAccount.role == Role.ADMINISTRATOR.value,
                StaffAccount.active.is_(True),
            )
            .limit(1)
        )
    return found is not None


# --- Logging in -----------------------------------------------------------


def authenticate(
    sessions: sessionmaker[Session],
    username: str,
    password: str,
    client: str,
    throttle: Throttle = Throttle(),
    now: datetime | None = None,
) -> StaffUser:
    """Check a username and password, counting failures against both.

    Args:
        client: the caller's address; failures are counted per account and
            address, so a stranger's failures do not lock the owner out.
        throttle: the limit of failures within a window.
        now: the time of the attempt (tests pass their own clock).

    Raises:
        LoginThrottled: too many recent failures for the name or the address;
            the password is not even checked.
        LoginFailed: the username or password is wrong, or the account is off.
    """
    now = now or utc_now()
    name = _printable(username).strip().lower()[:64]
    client = _printable(client)[:64] or "unknown"
    _check_throttle(sessions, name, client, throttle, now)

    with sessions() as session:
        row = session.scalar(select(StaffAccount).where(StaffAccount.username == name))
        found = (row.id, row.password_hash, Role(row.role), row.active) if row else None
    # An unknown name costs as much time as a known one, so timing tells nothing.
    stored = found[1] if found else _dummy_hash()
    verified = _verify(stored, (password or "")[:MAX_PASSWORD_CHARS])
    if found is None or not verified or not found[3]:
        _record_failure(sessions, name, client, throttle, now)
        raise LoginFailed("Wrong username or password.")

    with sessions.begin() as session:
        # Only this address's failures are forgiven: failures from elsewhere
        # may be someone else guessing, and still count towards the ceiling.
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.username == name, LoginAttempt.client == client
            )
        )
        if _hasher.check_needs_rehash(stored):
            account = session.get(StaffAccount, found[0])
            if account is not None:
                account.password_hash = _hasher.hash(password)
    return StaffUser(found[0], name, found[2])


def _printable(value: str | None) -> str:
    # A NUL byte cannot be stored by PostgreSQL; no name has control characters.
    return "".join(ch for ch in (value or "") if ch.isprintable())


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _check_throttle(
    sessions: sessionmaker[Session],
    name: str,
    client: str,
    throttle: Throttle,
    now: datetime,
) -> None:
    since = now - throttle.window
    limits = (
        (
            (LoginAttempt.username == name, LoginAttempt.client == client),
            throttle.max_failures,
        ),
        ((LoginAttempt.client == client,), throttle.max_client_failures),
        ((LoginAttempt.username == name,), throttle.max_account_failures),
    )
    with sessions() as session:
        for conditions, limit in limits:
            count, oldest = session.execute(
                select(func.count(), func.min(LoginAttempt.at)).where(
                    *conditions, LoginAttempt.at > since
                )
            ).one()
            if count >= limit:
                free_at = oldest + throttle.window
                minutes = max(1, int((free_at - now).total_seconds() // 60) + 1)
                raise LoginThrottled(minutes)


def _record_failure(
    sessions: sessionmaker[Session],
    name: str,
    client: str,
    throttle: Throttle,
    now: datetime,
) -> None:
    with sessions.begin() as session:
        session.add(LoginAttempt(username=name, client=client, at=now))
        # Old attempts count for nothing; clearing them here keeps the table small.
        session.execute(
            delete(LoginAttempt).where(LoginAttempt.at < now - 4 * throttle.window)
        )
    log.info("failed staff login for %r from %s", name, client)


# --- Sessions -------------------------------------------------------------


def open_session(
    sessions: sessionmaker[Session], user: StaffUser, lifetime: timedelta
) -> OpenedSession:
    """Start a session for a user who has just proved who they are."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    now = utc_now()
    with sessions.begin() as session:
        session.add(
            StaffSession(
                id_hash=_sha256(cookie),
                user_id=user.id,
                csrf_token=csrf,
                created_at=now,
                last_seen_at=now,
                expires_at=now + lifetime,
            )
        )
        # Sessions that ran out are of no use to anyone.
        session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    return OpenedSession(cookie, csrf, user)


def session_for(
    sessions: sessionmaker[Session], cookie: str | None
) -> ActiveSession | None:
    """The live session behind a cookie value, or None."""
    if not cookie or len(cookie) > 200:
        return None
    now = utc_now()
    with sessions() as session:
        row = session.execute(
            select(StaffSession, StaffAccount)
            .join(StaffAccount, StaffAccount.id == StaffSession.user_id)
            .where(StaffSession.id_hash == _sha256(cookie))
        ).one_or_none()
    if row is None:
        return None
    staff_session, account = row
    if staff_session.expires_at <= now or not account.active:
        return None
    if now - staff_session.last_seen_at > TOUCH_INTERVAL:
        _touch(sessions, staff_session.id_hash, now)
    user = StaffUser(account.id, account.username, Role(account.role))
    return ActiveSession(user, staff_session.csrf_token)


def _touch(sessions: sessionmaker[Session], id_hash: str, now: datetime) -> None:
    with sessions.begin() as session:
        row = session.get(StaffSession, id_hash)
        if row is not None:
            row.last_seen_at = now


def close_session(sessions: sessionmaker[Session], cookie: str | None) -> None:
    """End the session behind a cookie value (logging out)."""
    if not cookie:
        return
    with sessions.begin() as session:
        session.execute(
            delete(StaffSession).where(StaffSession.id_hash == _sha256(cookie))
        )


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Compare two secrets in constant time; a missing one never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


# --- The first administrator ----------------------------------------------


def create_setup_token(sessions: sessionmaker[Session]) -> str | None:
    """A one-time token for creating the first administrator.

    Returns:
        The token, or None when an administrator exists already.
    """
    if has_administrator(sessions):
        return None
    token = secrets.token_urlsafe(24)
    now = utc_now()
    with sessions.begin() as session:
        session.add(
            SetupToken(
                token_hash=_sha256(token),
                created_at=now,
                expires_at=now + timedelta(hours=SETUP_LINK_HOURS),
            )
        )
    return token


def setup_token_valid(sessions: sessionmaker[Session], token: str | None) -> bool:
    """Whether the token may still create the first administrator."""
    if not token or len(token) > 200 or has_administrator(sessions):
        return False
    with sessions() as session:
        row = session.get(SetupToken, _sha256(token))
    return row is not None and row.used_at is None and row.expires_at > utc_now()


def create_first_administrator(
    sessions: sessionmaker[Session], token: str, username: str, password: str
) -> StaffUser:
    """Use the one-time token to create the first administrator.

    Raises:
        SetupLinkInvalid: the token is unknown, used or expired, or an
            administrator exists already.
        AccountInvalid: the username or password cannot be used.
    """
    clean_username(username)
    check_password(password)
    with sessions.begin() as session:
        row = session.get(SetupToken, _sha256(token or ""), with_for_update=True)
        if row is None or row.used_at is not None or row.expires_at <= utc_now():
            raise SetupLinkInvalid("The setup link is unknown, used or expired.")
        row.used_at = utc_now()
    if has_administrator(sessions):
        raise SetupLinkInvalid("An administrator exists already.")
    return create_account(sessions, username, password, Role.ADMINISTRATOR)
