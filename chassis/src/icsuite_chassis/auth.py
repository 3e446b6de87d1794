"""Bearer JWT authentication with roles: HS256 with a shared secret locally, RS256 key sets in production."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Request

from .problems import Forbidden, Unauthorized

Role = Literal["agent", "supervisor", "admin", "channel"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin", "channel")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="icsuite"'}


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class TokenVerifier:
    """Verifies bearer tokens: HS256 with ``secret`` or, when ``jwks_url`` is set, RS256 from a key set."""

    def __init__(self, secret: str, jwks_url: str | None = None, audience: str | None = None):
        self._secret = secret
        self._audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    async def verify_async(self, token: str) -> Principal:
        """``verify`` without blocking the event loop: a key-set lookup may fetch over the network."""
        if self._jwks is not None:
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def verify(self, token: str) -> Principal:
        options = {"require": ["exp", "sub"], "verify_aud": self._audience is not None}
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256"], audience=self._audience, options=options)
            else:
                claims = jwt.decode(token, self._secret, algorithms=["HS256"], audience=self._audience,
                                    options=options)
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired", headers=_CHALLENGE) from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise Unauthorized(f"the token is not valid: {exc}", headers=_CHALLENGE) from None
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthorized("the token's roles claim must be a list of strings", headers=_CHALLENGE)
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Unauthorized("the token's sub claim must be a non-empty string", headers=_CHALLENGE)
        return Principal(sub=claims["sub"], roles=frozenset(r for r in roles if r in ROLES))


def mint_token(secret: str, sub: str, roles: list[str], ttl_s: int = 8 * 3600,
               now: float | None = None) -> str:
    """A development token signed with HS256 (``make token ROLE=agent SUB=a-1``)."""
    issued = int(now if now is not None else time.time())
    return jwt.encode({"sub": sub, "roles": roles, "iat": issued, "exp": issued + ttl_s}, secret,
                      algorithm="HS256")


async def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required", headers=_CHALLENGE)
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify_async(token.strip())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets a principal through only with one of ``roles`` (async: FastAPI runs sync
    dependencies in a worker thread, a hop that cost about a tenth of a claim's time)."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles):
            raise Forbidden(f"this operation needs one of the roles: {', '.join(roles)}",
                            required_roles=list(roles))
        return principal

    return _check


AnyStaff = Annotated[Principal, Depends(require_roles("agent", "supervisor", "admin"))]
Supervisor = Annotated[Principal, Depends(require_roles("supervisor", "admin"))]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Channel = Annotated[Principal, Depends(require_roles("channel", "admin"))]
