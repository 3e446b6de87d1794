"""Sign-in and sign-out: a development page that mints a local token, or OpenID Connect with PKCE."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from icsuite_chassis.problems import Problem

from .oidc import PendingSignIn, SignInFailed, authorization_url, check_state, seal, unseal
from .session import ROLE_CHOICES, MaybeUser, clear_session, cookie_secure, mint_development_token, set_session
from .settings import DesktopSettings
from .web import render

router = APIRouter(include_in_schema=False)
PENDING_COOKIE = "icsuite_oidc_pending"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
Short = Annotated[str, Form(max_length=400)]


def _settings(request: Request) -> DesktopSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


@router.get("/signin", response_class=HTMLResponse)
async def sign_in_page(request: Request, user: MaybeUser, error: str | None = None) -> Response:
    return render(request, "signin.html", roles=ROLE_CHOICES, error=error[:300] if error else None)


@router.post("/signin")
async def sign_in_development(request: Request, agent_id: Short, role: Short,
                              skills: Short = "", languages: Short = "") -> Response:
    settings = _settings(request)
    if settings.sign_in != "development":
        raise Problem("development sign-in is off; sign in with your organisation's account", status=403,
                      title="Forbidden", slug="forbidden")
    agent_id = agent_id.strip()
    if not _ID.match(agent_id) or role not in ROLE_CHOICES:
        return render(request, "signin.html", status=422, roles=ROLE_CHOICES, agent_id=agent_id,
                      error="Enter an id of letters, digits, '.', '_', '@' or '-' (at most 64) and pick a role.")
    skill_list, language_list = _codes(skills), _codes(languages)
    if skill_list is None or language_list is None:
        return render(request, "signin.html", status=422, roles=ROLE_CHOICES, agent_id=agent_id,
                      error="Skills and languages are short codes separated by commas, such as billing, de.")
    token = mint_development_token(settings.jwt_secret, agent_id, role, skill_list, language_list,
                                   settings.session_ttl_s, issuer=settings.jwt_issuer, audience=settings.jwt_audience)
    response = RedirectResponse(_home(role), status_code=303)
    set_session(response, request, settings, token)
    return response


def _codes(text: str) -> list[str] | None:
    codes = [c.strip().lower() for c in text.split(",") if c.strip()]
    return codes if len(codes) <= 20 and all(_CODE.match(c) for c in codes) else None


def _home(role: str) -> str:
    return {"supervisor": "/supervisor", "admin": "/admin/rules"}.get(role, "/")


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/signin", status_code=303)
    clear_session(response, request, _settings(request))
    return response


@router.get("/signin/oidc")
async def oidc_start(request: Request) -> Response:
    settings, client = _settings(request), request.app.state.oidc
    if client is None:
        raise Problem("OpenID Connect is not configured", status=404, title="Not found", slug="not-found")
    pending = PendingSignIn.new()
    try:
        target = authorization_url(await client.metadata(), client.client_id, _redirect_uri(request),
                                   client.scopes, pending)
    except SignInFailed as exc:
        return RedirectResponse(f"/signin?error={exc}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    # Lax, not Strict: the issuer's redirect back is a cross-site navigation that must carry it
    response.set_cookie(PENDING_COOKIE, seal(pending, settings.jwt_secret), max_age=600, path="/oidc",
                        secure=cookie_secure(settings, request), httponly=True, samesite="lax")
    return response


@router.get("/oidc/callback")
async def oidc_callback(request: Request, code: str | None = None, state: str | None = None,
                        error: str | None = None) -> Response:
    settings, client = _settings(request), request.app.state.oidc
    if client is None:
        raise Problem("OpenID Connect is not configured", status=404, title="Not found", slug="not-found")
    try:
        if error:
            raise SignInFailed(f"the issuer refused the sign-in: {error[:100]}")
        pending = unseal(request.cookies.get(PENDING_COOKIE), settings.jwt_secret)
        check_state(pending, state)
        if not code or len(code) > 2048:
            raise SignInFailed("the issuer's answer has no code")
        tokens = await client.exchange(code, pending, _redirect_uri(request))
    except SignInFailed as exc:
        return render(request, "signin.html", status=400, roles=ROLE_CHOICES, error=str(exc))
    # a same-site page continues to /, so that the Strict session cookie is sent from then on
    response = render(request, "signed_in.html")
    set_session(response, request, settings, tokens["access_token"])
    response.delete_cookie(PENDING_COOKIE, path="/oidc")
    return response


def _redirect_uri(request: Request) -> str:
    configured = _settings(request).oidc_redirect_url
    return configured or str(request.url_for("oidc_callback"))
