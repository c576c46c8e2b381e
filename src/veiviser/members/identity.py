"""The member portal's login token: a short-lived JWT, verified on every request.

The portal signs a token whose subject (``sub``) is the member's id in the
member directory. Veiviser checks the signature with a key it was configured
with (an HS256 shared secret, or an RS256/ES256 public key given as a PEM
file, a JWKS file or a JWKS URL), the algorithm against a pinned list (so an
unsigned ``alg: none`` token is refused), and ``iss``, ``aud``, ``exp`` and
``sub``, with a small clock-skew allowance.

Nothing here logs a token or a claim; a refusal carries only a reason code.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from veiviser.members.errors import LoginFailed, MemberSettingsError

log = logging.getLogger(__name__)

SYMMETRIC = ("HS256", "HS384", "HS512")
ASYMMETRIC = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256")
SUPPORTED = SYMMETRIC + ASYMMETRIC
# A browser header this long is no login token; refuse before parsing.
MAX_TOKEN_CHARS = 8192
MAX_SUBJECT_CHARS = 128
REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub"]
# How long fetched JWKS keys are trusted before they are fetched again.
JWKS_LIFESPAN_SECONDS = 300
JWKS_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class MemberIdentity:
    """A member proven by a valid token; the id is never shown in a repr."""

    member_id: str = field(repr=False)


@dataclass(frozen=True)
class TokenPolicy:
    """What a token must satisfy, and the keys that may have signed it.

    Attributes:
        algorithms: the only algorithms accepted (``none`` never is).
        issuer: the required ``iss``.
        audience: the required ``aud``.
        secret: the HS256 shared secret, if HMAC algorithms are accepted.
        public_key: a PEM public key for RS/ES algorithms.
        jwks: a key set read from a file, chosen by the token's ``kid``.
        jwks_url: a key set fetched from this URL (only when configured).
        leeway_seconds: clock skew allowed on ``exp``, ``nbf`` and ``iat``.
        max_lifetime_seconds: a token may not expire further in the future.
    """

    algorithms: tuple[str, ...]
    issuer: str
    audience: str
    secret: str | None = field(default=None, repr=False)
    public_key: str | None = None
    jwks: PyJWKSet | None = None
    jwks_url: str | None = None
    leeway_seconds: int = 30
    max_lifetime_seconds: int = 3600

    def __post_init__(self) -> None:
        unknown = [a for a in self.algorithms if a not in SUPPORTED]
        if unknown or not self.algorithms:
            raise MemberSettingsError(
                f"Member token algorithms {list(self.algorithms)} are not usable; "
                f"choose from {list(SUPPORTED)} ('none' is never accepted)."
            )
        if not self.issuer or not self.audience:
            raise MemberSettingsError(
                "Member login needs both an issuer and an audience to check."
            )
        if any(a in SYMMETRIC for a in self.algorithms) and not self.secret:
            raise MemberSettingsError(
                "HS algorithms are accepted but no secret is set."
            )
        has_keys = self.public_key or self.jwks is not None or self.jwks_url
        if any(a in ASYMMETRIC for a in self.algorithms) and not has_keys:
            raise MemberSettingsError(
                "RS/ES algorithms are accepted but no public key or JWKS is set."
            )


def read_jwks_file(path: str | Path) -> PyJWKSet:
    """A JWKS from a local file.

    Raises:
        MemberSettingsError: the file is missing or holds no usable key set.
    """
    try:
        return PyJWKSet.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, jwt.PyJWTError) as error:
        raise MemberSettingsError(
            f"The JWKS file {str(path)!r} cannot be used: {error}"
        ) from error


def read_public_key(path: str | Path) -> str:
    """A PEM public key from a file.

    Raises:
        MemberSettingsError: the file cannot be read or is not a PEM key.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MemberSettingsError(
            f"The public key file {str(path)!r}: {error}"
        ) from error
    if "-----BEGIN" not in text:
        raise MemberSettingsError(f"The public key file {str(path)!r} is not PEM.")
    return text


class TokenVerifier:
    """Verifies member tokens against one policy.

    Args:
        policy: what a token must satisfy.
        clock: seconds since the epoch (tests pass their own).
    """

    def __init__(
        self, policy: TokenPolicy, clock: Callable[[], float] = time.time
    ) -> None:
        self.policy = policy
        self.clock = clock
        self._jwks_client = (
            PyJWKClient(
                policy.jwks_url,
                cache_jwk_set=True,
                lifespan=JWKS_LIFESPAN_SECONDS,
                timeout=JWKS_TIMEOUT_SECONDS,
            )
            if policy.jwks_url
            else None
        )

    def verify(self, token: str) -> MemberIdentity:
        """The member a token proves.

        Raises:
            LoginFailed: with a reason code, for any token that is not valid.
        """
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise LoginFailed("malformed")
        algorithm = self._pinned_algorithm(token)
        key = self._key_for(token, algorithm)
        claims = self._decode(token, key, algorithm)
        self._check_lifetime(claims)
        return MemberIdentity(self._subject(claims))

    def _pinned_algorithm(self, token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise LoginFailed("malformed") from error
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.policy.algorithms:
            raise LoginFailed("algorithm")
        return algorithm

    def _key_for(self, token: str, algorithm: str) -> Any:
        if algorithm in SYMMETRIC:
            return self.policy.secret
        if self.policy.public_key:
            return self.policy.public_key
        if self.policy.jwks is not None:
            return _key_from_set(self.policy.jwks, token).key
        assert self._jwks_client is not None  # the policy checked for keys
        try:
            return self._jwks_client.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as error:
            log.warning("member JWKS could not be fetched: %s", type(error).__name__)
            raise LoginFailed("keys_unavailable") from error
        except jwt.PyJWTError as error:
            raise LoginFailed("unknown_key") from error

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.policy.audience,
                issuer=self.policy.issuer,
                leeway=self.policy.leeway_seconds,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
        except jwt.PyJWTError as error:
            raise LoginFailed(_reason(error)) from error

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        # A "short-lived" token that lives for a year is a password; refuse it.
        horizon = self.clock() + self.policy.max_lifetime_seconds
        if float(claims["exp"]) > horizon + self.policy.leeway_seconds:
            raise LoginFailed("lives_too_long")

    @staticmethod
    def _subject(claims: dict[str, Any]) -> str:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise LoginFailed("missing_claim")
        if len(subject) > MAX_SUBJECT_CHARS:
            raise LoginFailed("malformed")
        return subject.strip()


def _key_from_set(keys: PyJWKSet, token: str) -> PyJWK:
    kid = jwt.get_unverified_header(token).get("kid")
    candidates = [key for key in keys if kid is None or key.key_id == kid]
    if len(candidates) != 1:
        raise LoginFailed("unknown_key")
    return candidates[0]


_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.InvalidAudienceError, "wrong_audience"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAlgorithmError, "algorithm"),
    (jwt.InvalidKeyError, "key"),
)


def _reason(error: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "malformed"
