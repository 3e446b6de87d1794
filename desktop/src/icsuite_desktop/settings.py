"""Settings of the desktop (environment prefix `IC_DESKTOP_`).

The desktop owns no database: it calls the five gateways with the signed-in user's token. It reads
``ic.contacts.v1`` and ``ic.identity.v1`` from their end without a consumer group, only to push the current
contact to the agent's page (``kafka_*`` of the chassis settings); ``mongodb_uri`` is read but unused.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from icsuite_chassis.settings import ServiceSettings
from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

GATEWAYS = ("identity", "interactions", "callbacks", "followups", "alerts")


class DesktopSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IC_DESKTOP_", extra="ignore", populate_by_name=True)
    uses_key_vault: ClassVar[bool] = False  # publishes no events; the live feed reads sealed fields erased

    service_name: str = "desktop"
    port: int = 8000
    identity_url: str = "http://127.0.0.1:8001"
    interactions_url: str = "http://127.0.0.1:8002"
    callbacks_url: str = "http://127.0.0.1:8003"
    followups_url: str = "http://127.0.0.1:8004"
    alerts_url: str = "http://127.0.0.1:8005"
    gateway_timeout_s: float = Field(default=10.0, gt=0)
    sign_in: Literal["development", "oidc"] | None = Field(default=None, description=(
        "development: a page mints a local token; oidc: authorization code with PKCE against oidc_issuer. "
        "Default: oidc in production, development elsewhere"))
    cookie_name: str = "icsuite_session"
    cookie_secure: bool | None = Field(default=None, description=(
        "Secure flag of the session cookie; default: set, except on plain http://127.0.0.1 or localhost "
        "outside production"))
    session_ttl_s: int = Field(default=8 * 3600, ge=60, le=7 * 86_400)
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid profile"
    oidc_redirect_url: str | None = Field(default=None, description=(
        "the callback URL registered with the issuer; default: <the desktop's address>/oidc/callback"))
    live_contacts: bool = Field(default=True, description=(
        "push the current contact to the agent's page from ic.contacts.v1 and ic.identity.v1 (else the page "
        "shows it when it opens and on reload)"))
    live_fetch_max_wait_ms: int = Field(default=50, ge=1, le=1000, description=(
        "longest a fetch of the live contact feed waits for records"))
    max_request_bytes: int = Field(default=6 * 1024 * 1024, ge=1024, description=(
        "largest request body: an attachment upload (the interactions gateway takes 5 MiB by default)"))

    @model_validator(mode="after")
    def _choose_sign_in(self) -> "DesktopSettings":
        if self.sign_in is None:
            self.sign_in = "oidc" if self.environment == "production" else "development"
        if self.sign_in == "oidc" and not (self.oidc_issuer and self.oidc_client_id):
            raise ValueError("IC_DESKTOP_OIDC_ISSUER and IC_DESKTOP_OIDC_CLIENT_ID are needed for OIDC sign-in")
        if self.jwt_max_lifetime_s and self.session_ttl_s > self.jwt_max_lifetime_s:
            raise ValueError("IC_DESKTOP_SESSION_TTL_S exceeds IC_JWT_MAX_LIFETIME_S: the gateways would refuse "
                             "the development tokens")
        if self.environment == "production" and self.sign_in == "development":
            raise ValueError("development sign-in mints tokens and is refused when IC_ENV=production")
        return self

    def gateway_url(self, gateway: str) -> str:
        return str(getattr(self, f"{gateway}_url")).rstrip("/")
