"""OpenID Connect sign-in: authorization code flow with PKCE (S256) against the configured issuer.

Small code against the standard endpoints: discovery (``/.well-known/openid-configuration``), the
authorization request, the token request, and the ID token's signature, issuer, audience and nonce checked
with the issuer's key set. The pending sign-in (state, nonce, code verifier) travels in a short-lived
HTTP-only cookie signed by the desktop, so any replica can finish it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

PENDING_TTL_S = 600
VERIFIER_BYTES = 64  # 86 characters of base64url, within RFC 7636's 43 to 128


class SignInFailed(Exception):
    """The issuer's answer cannot sign anyone in; the message says why (shown on the sign-in page)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


@dataclass(frozen=True)
class PendingSignIn:
    state: str
    nonce: str
    verifier: str
    created: float

    @classmethod
    def new(cls, now: float | None = None) -> PendingSignIn:
        return cls(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                   verifier=_b64url(secrets.token_bytes(VERIFIER_BYTES)), created=now or time.time())


def seal(pending: PendingSignIn, key: str) -> str:
    """The pending sign-in as a cookie value: JSON, base64url, with an HMAC-SHA256 tag."""
    body = _b64url(json.dumps(asdict(pending), separators=(",", ":")).encode())
    return f"{body}.{_tag(body, key)}"


def unseal(value: str | None, key: str, now: float | None = None) -> PendingSignIn:
    if not value or value.count(".") != 1 or len(value) > 2048:
        raise SignInFailed("no sign-in is pending in this browser; start again")
    body, tag = value.split(".")
    if not hmac.compare_digest(tag, _tag(body, key)):
        raise SignInFailed("the pending sign-in was altered; start again")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    pending = PendingSignIn(**data)
    if (now or time.time()) - pending.created > PENDING_TTL_S:
        raise SignInFailed("the sign-in took too long; start again")
    return pending


def _tag(body: str, key: str) -> str:
    return _b64url(hmac.new(key.encode(), b"oidc-pending." + body.encode(), hashlib.sha256).digest())


def check_state(pending: PendingSignIn, returned_state: str | None) -> None:
    if not returned_state or not hmac.compare_digest(pending.state, returned_state):
        raise SignInFailed("the issuer answered for another sign-in (state mismatch); start again")


def authorization_url(metadata: dict[str, Any], client_id: str, redirect_uri: str, scopes: str,
                      pending: PendingSignIn) -> str:
    query = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scopes,
             "state": pending.state, "nonce": pending.nonce,
             "code_challenge": code_challenge(pending.verifier), "code_challenge_method": "S256"}
    endpoint = metadata["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


class OidcClient:
    """Discovery, code exchange and ID-token checks for one issuer and client."""

    def __init__(self, issuer: str, client_id: str, client_secret: str | None, scopes: str,
                 http: httpx.AsyncClient | None = None):
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self._http = http or httpx.AsyncClient(timeout=10)
        self._metadata: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKClient | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            response = await self._http.get(f"{self.issuer}/.well-known/openid-configuration")
            if response.status_code != 200:
                raise SignInFailed(f"the issuer's discovery document answered {response.status_code}")
            self._metadata = response.json()
        return self._metadata

    async def exchange(self, code: str, pending: PendingSignIn, redirect_uri: str) -> dict[str, Any]:
        """The token answer for ``code``, its ID token checked; returns the tokens."""
        metadata = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": self.client_id, "code_verifier": pending.verifier}
        auth = (self.client_id, self.client_secret) if self.client_secret else None
        response = await self._http.post(metadata["token_endpoint"], data=form, auth=auth)
        if response.status_code != 200:
            raise SignInFailed(f"the issuer refused the code ({response.status_code}): {response.text[:300]}")
        tokens = response.json()
        if not tokens.get("access_token") or not tokens.get("id_token"):
            raise SignInFailed("the issuer's answer lacks an access token or an ID token")
        # the key-set fetch of PyJWT blocks: off the event loop
        await asyncio.to_thread(self.check_id_token, tokens["id_token"], pending, metadata)
        return tokens

    def check_id_token(self, id_token: str, pending: PendingSignIn, metadata: dict[str, Any]) -> dict[str, Any]:
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(metadata["jwks_uri"], cache_keys=True)
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token).key
            claims = jwt.decode(id_token, key, algorithms=["RS256", "ES256"], audience=self.client_id,
                                issuer=metadata.get("issuer", self.issuer))
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise SignInFailed(f"the ID token is not valid: {exc}") from None
        if not hmac.compare_digest(str(claims.get("nonce", "")), pending.nonce):
            raise SignInFailed("the ID token belongs to another sign-in (nonce mismatch)")
        return claims
