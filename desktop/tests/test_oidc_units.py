"""PKCE, state and the sealed pending sign-in of the OpenID Connect flow (no network)."""

from __future__ import annotations

import base64
import hashlib
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from icsuite_desktop.oidc import (
    PENDING_TTL_S,
    PendingSignIn,
    SignInFailed,
    authorization_url,
    check_state,
    code_challenge,
    seal,
    unseal,
)

pytestmark = pytest.mark.unit
KEY = "k" * 40


def test_code_challenge_is_rfc7636_s256() -> None:
    # the example of RFC 7636, appendix B
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_new_sign_in_has_a_fresh_verifier_state_and_nonce() -> None:
    first, second = PendingSignIn.new(), PendingSignIn.new()
    assert 43 <= len(first.verifier) <= 128
    assert set(first.verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert first.state != second.state and first.nonce != second.nonce and first.verifier != second.verifier


def test_the_authorization_url_carries_challenge_state_and_nonce_not_the_verifier() -> None:
    pending = PendingSignIn.new()
    url = authorization_url({"authorization_endpoint": "https://id.example.org/auth"}, "desk", "https://d/cb",
                            "openid profile", pending)
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge"] == [code_challenge(pending.verifier)]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [pending.state] and query["nonce"] == [pending.nonce]
    assert query["response_type"] == ["code"] and query["redirect_uri"] == ["https://d/cb"]
    assert pending.verifier not in url


def test_an_endpoint_with_a_query_keeps_it() -> None:
    url = authorization_url({"authorization_endpoint": "https://id.example.org/auth?tenant=a"}, "desk", "x",
                            "openid", PendingSignIn.new())
    assert url.startswith("https://id.example.org/auth?tenant=a&response_type=code")


def test_sealed_pending_sign_in_round_trips() -> None:
    pending = PendingSignIn.new()
    assert unseal(seal(pending, KEY), KEY) == pending


@pytest.mark.parametrize("tamper", [
    lambda v: v[:-2] + ("AA" if not v.endswith("AA") else "BB"),
    lambda v: base64.urlsafe_b64encode(b'{"state":"x","nonce":"y","verifier":"z","created":1}').decode().rstrip("=")
    + "." + v.split(".")[1],
    lambda v: "",
    lambda v: "no-dot",
])
def test_an_altered_or_missing_pending_sign_in_is_refused(tamper) -> None:
    with pytest.raises(SignInFailed):
        unseal(tamper(seal(PendingSignIn.new(), KEY)), KEY)


def test_another_key_cannot_unseal() -> None:
    with pytest.raises(SignInFailed):
        unseal(seal(PendingSignIn.new(), KEY), "another-key-" + "x" * 30)


def test_an_old_pending_sign_in_expires() -> None:
    old = PendingSignIn.new(now=time.time() - PENDING_TTL_S - 1)
    with pytest.raises(SignInFailed, match="too long"):
        unseal(seal(old, KEY), KEY)


def test_state_must_match() -> None:
    pending = PendingSignIn.new()
    check_state(pending, pending.state)
    for wrong in (None, "", pending.state + "x", PendingSignIn.new().state):
        with pytest.raises(SignInFailed, match="state"):
            check_state(pending, wrong)


def test_the_challenge_is_the_hash_of_the_verifier() -> None:
    pending = PendingSignIn.new()
    digest = hashlib.sha256(pending.verifier.encode()).digest()
    assert code_challenge(pending.verifier) == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
