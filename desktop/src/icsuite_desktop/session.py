"""The session: the user's bearer token in a secure, HTTP-only, SameSite=Strict cookie.

The cookie holds the token the gateways accept (a development token, or the issuer's access token after
OpenID Connect). The desktop verifies it on every request with the chassis's verifier, exactly as the
gateways do, so an expired or forged cookie is a signed-out user, never a call with a bad token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

import jwt
from fastapi import Depends, Request, Response
from icsuite_chassis.auth import Principal, TokenVerifier
from icsuite_chassis.problems import Problem

from .settings import DesktopSettings

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
ROLE_CHOICES = ("agent", "supervisor", "admin")


@dataclass(frozen=True)
class User:
    """The signed-in user: who, with which roles, and the token to call the gateways with."""

    sub: str
    roles: frozenset[str]
    token: str
    skills: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @property
    def is_supervisor(self) -> bool:
        return bool(self.roles & {"supervisor", "admin"})

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def role_label(self) -> str:
        return ", ".join(sorted(self.roles)) or "no role"


class SignInRequired(Problem):
    status, title, slug = 401, "Sign-in required", "sign-in-required"


def mint_development_token(secret: str, sub: str, role: str, skills: list[str], languages: list[str],
                           ttl_s: int, now: float | None = None, *, issuer: str | None = None,
                           audience: str | None = None) -> str:
    """A local HS256 token with the claims the gateways read: sub, roles, skills, languages, iat, exp (and
    iss and aud when the suite is configured to require them)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": sub, "roles": [role], "iat": issued, "exp": issued + ttl_s}
    claims.update({k: v for k, v in (("iss", issuer), ("aud", audience)) if v})
    if skills:
        claims["skills"] = skills
    if languages:
        claims["languages"] = languages
    return jwt.encode(claims, secret, algorithm="HS256")


def cookie_secure(settings: DesktopSettings, request: Request) -> bool:
    """Secure unless configured otherwise, except on plain http to the loopback outside production."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    url = urlsplit(str(request.url))
    local = url.scheme == "http" and (url.hostname or "") in {"127.0.0.1", "localhost", "::1"}
    return not (local and settings.environment != "production")


def set_session(response: Response, request: Request, settings: DesktopSettings, token: str) -> None:
    response.set_cookie(settings.cookie_name, token, max_age=settings.session_ttl_s, path="/",
                        secure=cookie_secure(settings, request), httponly=True, samesite="strict")


def clear_session(response: Response, request: Request, settings: DesktopSettings) -> None:
    response.delete_cookie(settings.cookie_name, path="/", secure=cookie_secure(settings, request),
                           httponly=True, samesite="strict")


async def _user_of(request: Request) -> User | None:
    settings: DesktopSettings = request.app.state.settings
    token = request.cookies.get(settings.cookie_name)
    if not token or len(token) > 8192:
        return None
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        principal: Principal = await verifier.verify_async(token)
    except Problem:
        return None
    claims = jwt.decode(token, options={"verify_signature": False})
    return User(sub=principal.sub, roles=principal.roles, token=token,
                skills=_strings(claims.get("skills")), languages=_strings(claims.get("languages")))


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


async def optional_user(request: Request) -> User | None:
    request.state.user = await _user_of(request)
    return request.state.user  # type: ignore[no-any-return]


async def signed_in(request: Request) -> User:
    user = await optional_user(request)
    if user is None:
        raise SignInRequired("your session has ended or you are not signed in; sign in again")
    return user


async def supervisor(user: Annotated[User, Depends(signed_in)]) -> User:
    if not user.is_supervisor:
        raise Problem("this page is for supervisors and administrators", status=403, title="Forbidden",
                      slug="forbidden")
    return user


async def admin(user: Annotated[User, Depends(signed_in)]) -> User:
    if not user.is_admin:
        raise Problem("this page is for administrators", status=403, title="Forbidden", slug="forbidden")
    return user


CurrentUser = Annotated[User, Depends(signed_in)]
SupervisorUser = Annotated[User, Depends(supervisor)]
AdminUser = Annotated[User, Depends(admin)]
MaybeUser = Annotated[User | None, Depends(optional_user)]
