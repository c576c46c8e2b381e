"""The member portal's login token: every way a token can be right or wrong."""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from test_members_support import AUDIENCE, ISSUER, SECRET, member_token
from veiviser.members.errors import LoginFailed, MemberSettingsError
from veiviser.members.identity import TokenPolicy, TokenVerifier, read_jwks_file


def hs_verifier(**changes) -> TokenVerifier:
    values = {
        "algorithms": ("HS256",),
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "secret": SECRET,
    }
    return TokenVerifier(TokenPolicy(**{**values, **changes}))


def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(LoginFailed) as failure:
        verifier.verify(token)
    return failure.value.reason


def b64(data: dict) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- HS256 --------------------------------------------------------------------


def test_valid_token_proves_its_subject():
    identity = hs_verifier().verify(member_token("demo-kari"))
    assert identity.member_id == "demo-kari"
    assert "demo-kari" not in repr(identity)


def test_expired_token_is_refused():
    token = member_token("demo-kari", lifetime=-120)
    assert refused(hs_verifier(), token) == "expired"


def test_token_expired_within_the_clock_skew_allowance_is_accepted():
    token = member_token("demo-kari", lifetime=-10)
    assert hs_verifier(leeway_seconds=30).verify(token).member_id == "demo-kari"


def test_wrong_audience_is_refused():
    token = member_token("demo-kari", audience="another-service")
    assert refused(hs_verifier(), token) == "wrong_audience"


def test_wrong_issuer_is_refused():
    token = member_token("demo-kari", issuer="https://evil.example")
    assert refused(hs_verifier(), token) == "wrong_issuer"


def test_token_signed_with_another_key_is_refused():
    token = member_token("demo-kari", secret="another-secret-" + "x" * 40)
    assert refused(hs_verifier(), token) == "bad_signature"


def test_unsigned_alg_none_token_is_refused():
    header = b64({"alg": "none", "typ": "JWT"})
    payload = b64(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "demo-kari", "exp": time.time() + 60}
    )
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        assert refused(hs_verifier(), token) in ("algorithm", "malformed")


def test_policy_never_accepts_alg_none():
    with pytest.raises(MemberSettingsError):
        hs_verifier(algorithms=("none",))


def test_tampered_payload_is_refused():
    header, _, signature = member_token("demo-kari").split(".")
    forged = b64(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "demo-ola", "exp": time.time() + 60}
    )
    assert refused(hs_verifier(), f"{header}.{forged}.{signature}") == "bad_signature"


@pytest.mark.parametrize("missing", ["exp", "iss", "aud", "sub"])
def test_token_without_a_required_claim_is_refused(missing):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "demo-kari", "exp": now + 60}
    del claims[missing]
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert refused(hs_verifier(), token) == "missing_claim"


def test_token_that_lives_too_long_is_refused():
    token = member_token("demo-kari", lifetime=30 * 24 * 3600)
    assert refused(hs_verifier(max_lifetime_seconds=3600), token) == "lives_too_long"


def test_algorithm_outside_the_pinned_list_is_refused():
    token = member_token("demo-kari", algorithm="HS512", secret=SECRET * 2)
    assert refused(hs_verifier(), token) == "algorithm"


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "a.b.c", "x" * 9000, "é.é.é", "'; DROP TABLE member; --"],
    ids=["empty", "words", "three-parts", "huge", "non-ascii", "sql-ish"],
)
def test_malformed_tokens_are_refused(token):
    assert refused(hs_verifier(), token) in ("malformed", "algorithm")


def test_empty_or_oversized_subject_is_refused():
    assert refused(hs_verifier(), member_token("  ")) == "missing_claim"
    assert refused(hs_verifier(), member_token("m" * 300)) == "malformed"


# --- RS256 and ES256: PEM key, JWKS file, JWKS URL ---------------------------


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )


def _jwks(private_key, kid: str, alg: str) -> dict:
    algorithm = jwt.get_algorithm_by_name(alg)
    jwk = json.loads(algorithm.to_jwk(private_key.public_key()))
    return {"keys": [{**jwk, "kid": kid, "alg": alg, "use": "sig"}]}


def asymmetric_token(private_key, alg: str, kid: str | None = None, **claims) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "demo-kari", "exp": now + 300}
    headers = {"kid": kid} if kid else None
    return jwt.encode({**payload, **claims}, private_key, alg, headers=headers)


def test_rs256_token_checked_with_the_portals_public_key():
    key = _rsa_key()
    verifier = TokenVerifier(
        TokenPolicy(("RS256",), ISSUER, AUDIENCE, public_key=_pem(key))
    )
    assert verifier.verify(asymmetric_token(key, "RS256")).member_id == "demo-kari"
    assert refused(verifier, asymmetric_token(_rsa_key(), "RS256")) == "bad_signature"


def test_hs256_token_signed_with_the_public_key_text_is_refused():
    # The classic key-confusion attack: HMAC with the public key as secret.
    key = _rsa_key()
    verifier = TokenVerifier(
        TokenPolicy(("RS256",), ISSUER, AUDIENCE, public_key=_pem(key))
    )
    header = b64({"alg": "HS256", "typ": "JWT"})
    payload = b64(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "demo-ola", "exp": time.time() + 60}
    )
    mac = hmac.new(_pem(key).encode(), f"{header}.{payload}".encode(), "sha256")
    signature = base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()
    assert refused(verifier, f"{header}.{payload}.{signature}") == "algorithm"


def test_es256_token_checked_with_a_jwks_file(tmp_path: Path):
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(_jwks(key, "portal-2027", "ES256")))
    verifier = TokenVerifier(
        TokenPolicy(("ES256",), ISSUER, AUDIENCE, jwks=read_jwks_file(path))
    )
    good = asymmetric_token(key, "ES256", kid="portal-2027")
    assert verifier.verify(good).member_id == "demo-kari"
    unknown = asymmetric_token(key, "ES256", kid="retired-key")
    assert refused(verifier, unknown) == "unknown_key"
    other = ec.generate_private_key(ec.SECP256R1())
    assert (
        refused(verifier, asymmetric_token(other, "ES256", kid="portal-2027"))
        == "bad_signature"
    )


def test_unreadable_jwks_file_is_a_settings_error(tmp_path: Path):
    path = tmp_path / "jwks.json"
    path.write_text("{not json")
    with pytest.raises(MemberSettingsError):
        read_jwks_file(path)
    with pytest.raises(MemberSettingsError):
        read_jwks_file(tmp_path / "missing.json")


@pytest.fixture
def jwks_server(tmp_path: Path) -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    """A JWKS endpoint on 127.0.0.1, as an operator's portal would publish."""
    key = _rsa_key()
    (tmp_path / "jwks.json").write_text(json.dumps(_jwks(key, "k1", "RS256")))
    handler = partial(_QuietFiles, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", key
    finally:
        server.shutdown()
        server.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_rs256_token_checked_with_keys_fetched_from_a_jwks_url(jwks_server):
    url, key = jwks_server
    verifier = TokenVerifier(TokenPolicy(("RS256",), ISSUER, AUDIENCE, jwks_url=url))
    token = asymmetric_token(key, "RS256", kid="k1")
    assert verifier.verify(token).member_id == "demo-kari"
    assert refused(verifier, asymmetric_token(key, "RS256", kid="k9")) == "unknown_key"


def test_unreachable_jwks_url_fails_the_login_not_the_chat():
    verifier = TokenVerifier(
        TokenPolicy(
            ("RS256",), ISSUER, AUDIENCE, jwks_url="http://127.0.0.1:9/jwks.json"
        )
    )
    token = asymmetric_token(_rsa_key(), "RS256", kid="k1")
    assert refused(verifier, token) == "keys_unavailable"


def test_policy_without_keys_for_its_algorithms_is_refused():
    with pytest.raises(MemberSettingsError):
        TokenPolicy(("HS256",), ISSUER, AUDIENCE)
    with pytest.raises(MemberSettingsError):
        TokenPolicy(("RS256",), ISSUER, AUDIENCE, secret=SECRET)
    with pytest.raises(MemberSettingsError):
        TokenPolicy(("HS256",), "", AUDIENCE, secret=SECRET)
