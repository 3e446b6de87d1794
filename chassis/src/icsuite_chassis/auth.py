"""Bearer JWT authentication with roles: HS256 with a shared secret locally, RS256 key sets in production.

A token needs ``sub`` and ``exp``; ``iss`` and ``aud`` are checked when configured (production requires
both), times are compared with a small leeway, and with a maximum lifetime a token needs ``iat`` and may
live at most that long (so a stolen long-lived token is refused). :attr:`Principal.expires_at` tells
long-lived streams when to end.

The optional claims ``skills`` and ``languages`` (lists of short strings) say what work an agent can serve;
a token without them carries none (see :attr:`Principal.skills`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import jwt
from fastapi import Depends, Request

from .problems import Forbidden, Unauthorized

if TYPE_CHECKING:
    from .settings import ServiceSettings

Role = Literal["agent", "supervisor", "admin", "channel"]
ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin", "channel")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="icsuite"'}
MAX_CODES = 100
"""At most this many skills (and as many languages) in a token, each at most ``MAX_CODE_LENGTH`` characters."""
MAX_CODE_LENGTH = 64


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    expires_at: datetime | None = None
    """When the token expires (UTC); a stream opened with it ends then."""
    skills: frozenset[str] = frozenset()
    """The ``skills`` claim. A token without it has no skills: it is not unrestricted (a service that routes
    by skill offers such an agent only work that needs no skill)."""
    languages: frozenset[str] = frozenset()
    """The ``languages`` claim (BCP 47 tags as the identity provider sends them); none without it."""

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def seconds_left(self, now: datetime | None = None) -> float | None:
        """Seconds until the token expires (0 once it has), ``None`` if the principal has no expiry."""
        if self.expires_at is None:
            return None
        return max(0.0, (self.expires_at - (now or datetime.now(UTC))).total_seconds())


class TokenVerifier:
    """Verifies bearer tokens: HS256 with ``secret`` or, when ``jwks_url`` is set, RS256 from a key set."""

    def __init__(self, secret: str, jwks_url: str | None = None, audience: str | None = None, *,
                 issuer: str | None = None, leeway_s: float = 30.0, max_lifetime_s: float | None = None):
        self._secret = secret
        self._audience = audience
        self._issuer = issuer
        self._leeway_s = leeway_s
        self._max_lifetime_s = max_lifetime_s
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> TokenVerifier:
        return cls(settings.jwt_secret, settings.jwt_jwks_url, settings.jwt_audience, issuer=settings.jwt_issuer,
                   leeway_s=settings.jwt_leeway_s, max_lifetime_s=settings.jwt_max_lifetime_s)

    async def verify_async(self, token: str) -> Principal:
        """``verify`` without blocking the event loop: a key-set lookup may fetch over the network."""
        if self._jwks is not None:
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def verify(self, token: str) -> Principal:
        required = ["exp", "sub", *(["iat"] if self._max_lifetime_s else []), *(["iss"] if self._issuer else []),
                    *(["aud"] if self._audience else [])]
        options: Any = {"require": required, "verify_aud": self._audience is not None}
        checks: dict[str, Any] = {"audience": self._audience, "issuer": self._issuer, "leeway": self._leeway_s,
                                  "options": options}
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256"], **checks)
            else:
                claims = jwt.decode(token, self._secret, algorithms=["HS256"], **checks)
            expires = self._check_lifetime(claims)
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired", headers=_CHALLENGE) from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
            raise Unauthorized(f"the token is not valid: {exc}", headers=_CHALLENGE) from None
        except (OverflowError, ValueError, OSError):
            raise Unauthorized("the token's times are out of range", headers=_CHALLENGE) from None
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthorized("the token's roles claim must be a list of strings", headers=_CHALLENGE)
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Unauthorized("the token's sub claim must be a non-empty string", headers=_CHALLENGE)
        return Principal(sub=claims["sub"], roles=frozenset(r for r in roles if r in ROLES), expires_at=expires,
                         skills=_codes(claims, "skills"), languages=_codes(claims, "languages"))

    def _check_lifetime(self, claims: dict[str, Any]) -> datetime:
        """The expiry; refuses a token that lives longer than the maximum or was issued in the future."""
        exp, now = float(claims["exp"]), time.time()
        if self._max_lifetime_s:
            longest = self._max_lifetime_s + self._leeway_s
            iat = float(claims["iat"])
            if iat > now + self._leeway_s:
                raise jwt.ImmatureSignatureError("the token was issued in the future")
            if exp - iat > longest or exp - now > longest:
                raise jwt.InvalidTokenError(f"the token lives longer than {self._max_lifetime_s:.0f} s")
        return datetime.fromtimestamp(exp, UTC)


def _codes(claims: dict[str, Any], name: str) -> frozenset[str]:
    """A claim that lists short strings (``skills``, ``languages``); absent is empty, anything else is refused."""
    value = claims.get(name, [])
    if (not isinstance(value, list) or len(value) > MAX_CODES
            or not all(isinstance(v, str) and 0 < len(v) <= MAX_CODE_LENGTH for v in value)):
        raise Unauthorized(f"the token's {name} claim must be a list of at most {MAX_CODES} non-empty strings "
                           f"of at most {MAX_CODE_LENGTH} characters", headers=_CHALLENGE)
    return frozenset(value)


def mint_token(secret: str, sub: str, roles: list[str], ttl_s: int = 8 * 3600,
               now: float | None = None, *, issuer: str | None = None, audience: str | None = None,
               skills: list[str] | None = None, languages: list[str] | None = None) -> str:
    """A development token signed with HS256 (``make token ROLE=agent SUB=a-1``); ``skills`` and
    ``languages`` become those claims when given (an empty list is sent as an empty claim)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": sub, "roles": roles, "iat": issued, "exp": issued + ttl_s}
    claims.update({k: v for k, v in (("iss", issuer), ("aud", audience)) if v})
    claims.update({k: v for k, v in (("skills", skills), ("languages", languages)) if v is not None})
    return jwt.encode(claims, secret, algorithm="HS256")


async def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a bearer token is required", headers=_CHALLENGE)
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify_async(token.strip())
    request.state.principal = principal  # the audit trail names who asked
    return principal


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
