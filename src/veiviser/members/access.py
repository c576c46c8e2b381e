"""Member login and lookup put together from the settings.

The service layer asks two things: who does this request's token prove
(``identify``, on every request), and what is that member's record
(``lookup``, only when a personal answer needs it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from veiviser.members.demo import DEMO_ISSUER, demo_secret
from veiviser.members.directory import MemberDirectory
from veiviser.members.errors import LoginFailed, MemberSettingsError
from veiviser.members.http_directory import CircuitBreaker, HttpDirectory
from veiviser.members.identity import (
    MemberIdentity,
    TokenPolicy,
    TokenVerifier,
    read_jwks_file,
    read_public_key,
)
from veiviser.members.records import MemberRecord
from veiviser.members.tables import TableDirectory
from veiviser.settings import Settings

log = logging.getLogger(__name__)

LoginStatus = Literal["anonymous", "member", "failed"]


@dataclass(frozen=True)
class Login:
    """Who a request speaks for: nobody, a verified member, or a failed login.

    The member's id is kept out of the repr so it cannot slip into a log.
    """

    status: LoginStatus
    identity: MemberIdentity | None = field(default=None, repr=False)
    reason: str | None = None


ANONYMOUS = Login("anonymous")


class MemberAccess:
    """Verifies login tokens and looks members up.

    Args:
        verifier: the token verifier; None when member login is off (every
            token then fails, and the chat goes on anonymously).
        directory: where member records come from.
    """

    def __init__(
        self, verifier: TokenVerifier | None, directory: MemberDirectory
    ) -> None:
        self.verifier = verifier
        self.directory = directory

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: sessionmaker[Session]
    ) -> MemberAccess:
        """Build from ``VEIVISER_MEMBER_*`` settings.

        In demo mode with no login configured, tokens signed by the demo
        portal (``/demo/min-side``) are accepted.

        Raises:
            MemberSettingsError: the settings name keys that cannot be used.
        """
        policy = token_policy(settings, sessions)
        verifier = TokenVerifier(policy) if policy is not None else None
        return cls(verifier, directory_from(settings, sessions))

    def identify(self, token: str | None) -> Login:
        """Who the token proves; never raises, a bad token is a failed login."""
        if token is None:
            return ANONYMOUS
        if self.verifier is None:
            log.info("member login failed: member login is not configured")
            return Login("failed", reason="not_configured")
        try:
            identity = self.verifier.verify(token.strip())
        except LoginFailed as failure:
            log.info("member login failed: %s", failure.reason)
            return Login("failed", reason=failure.reason)
        return Login("member", identity=identity)

    def lookup(self, login: Login) -> MemberRecord | None:
        """The logged-in member's record; None if the directory lacks them.

        Raises:
            DirectoryUnavailable: the directory cannot answer now.
        """
        if login.identity is None:
            return None
        return self.directory.lookup(login.identity.member_id)


def token_policy(
    settings: Settings, sessions: sessionmaker[Session]
) -> TokenPolicy | None:
    """The token policy the settings describe; None when member login is off."""
    configured = (
        settings.member_token_secret
        or settings.member_token_public_key
        or settings.member_token_jwks
    )
    if not configured:
        if not settings.demo_mode:
            return None
        return TokenPolicy(
            algorithms=("HS256",),
            issuer=DEMO_ISSUER,
            audience=settings.member_token_audience,
            secret=demo_secret(sessions),
            leeway_seconds=settings.member_token_leeway_seconds,
            max_lifetime_seconds=settings.member_token_max_lifetime_seconds,
        )
    jwks = settings.member_token_jwks
    is_url = jwks.startswith(("http://", "https://"))
    return TokenPolicy(
        algorithms=settings.member_token_algorithms,
        issuer=settings.member_token_issuer,
        audience=settings.member_token_audience,
        secret=settings.member_token_secret or None,
        public_key=read_public_key(settings.member_token_public_key)
        if settings.member_token_public_key
        else None,
        jwks=read_jwks_file(jwks) if jwks and not is_url else None,
        jwks_url=jwks if is_url else None,
        leeway_seconds=settings.member_token_leeway_seconds,
        max_lifetime_seconds=settings.member_token_max_lifetime_seconds,
    )


def directory_from(
    settings: Settings, sessions: sessionmaker[Session]
) -> MemberDirectory:
    """The member directory the settings choose.

    Raises:
        MemberSettingsError: an unknown directory, or http without a URL.
    """
    if settings.member_directory == "tables":
        return TableDirectory(sessions)
    if settings.member_directory == "http":
        if not settings.member_api_url:
            raise MemberSettingsError(
                "VEIVISER_MEMBER_DIRECTORY=http needs VEIVISER_MEMBER_API_URL."
            )
        return HttpDirectory(
            settings.member_api_url,
            settings.member_api_token,
            timeout_seconds=settings.member_api_timeout_seconds,
            retries=settings.member_api_retries,
            breaker=CircuitBreaker(
                settings.member_api_breaker_failures,
                settings.member_api_breaker_seconds,
            ),
        )
    raise MemberSettingsError(
        f"VEIVISER_MEMBER_DIRECTORY={settings.member_directory!r}; expected "
        "'tables' or 'http'."
    )
