"""Settings base: one class per service, an env prefix per service, validated at start.

The addresses of the shared infrastructure and the signing key keep the names every service and
operator knows (``KAFKA_BOOTSTRAP_SERVERS``, ``MONGODB_URI``, ``IC_JWT_SECRET``, ``IC_ENV``); every
other setting is read with the service's own prefix, for example ``IC_IDENTITY_PORT``.
"""

from __future__ import annotations

import sys
from typing import ClassVar, Literal, TypeVar

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_JWT_SECRET = "icsuite-development-secret-change-me-0123456789"
DEVELOPMENT_DATA_KEY_MASTER = "icsuite-development-data-key-master-change-me"

S = TypeVar("S", bound="ServiceSettings")


class ServiceSettings(BaseSettings):
    """Settings every service reads. Subclasses set ``model_config`` with their ``env_prefix``."""

    model_config = SettingsConfigDict(env_prefix="IC_SERVICE_", extra="ignore", populate_by_name=True)
    uses_key_vault: ClassVar[bool] = True
    """False for a process that publishes no events and reads sealed fields only in their erased form (the
    desktop): it needs no ``IC_DATA_KEY_MASTER``, even in production."""

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = Field(
        default="development", validation_alias=AliasChoices("environment", "IC_ENV")
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("kafka_bootstrap_servers", "KAFKA_BOOTSTRAP_SERVERS"),
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", validation_alias=AliasChoices("kafka_security_protocol", "KAFKA_SECURITY_PROTOCOL"),
        description="SASL_PLAINTEXT or SASL_SSL with SCRAM credentials where the brokers authenticate clients")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = Field(
        default="SCRAM-SHA-512", validation_alias=AliasChoices("kafka_sasl_mechanism", "KAFKA_SASL_MECHANISM"))
    kafka_sasl_username: str | None = Field(
        default=None, validation_alias=AliasChoices("kafka_sasl_username", "KAFKA_SASL_USERNAME"))
    kafka_sasl_password: str | None = Field(
        default=None, validation_alias=AliasChoices("kafka_sasl_password", "KAFKA_SASL_PASSWORD"), repr=False)
    mongodb_uri: str = Field(
        default="mongodb://127.0.0.1:27017",
        validation_alias=AliasChoices("mongodb_uri", "MONGODB_URI"),
    )
    mongodb_database: str = ""
    jwt_secret: str = Field(
        default=DEVELOPMENT_JWT_SECRET, validation_alias=AliasChoices("jwt_secret", "IC_JWT_SECRET")
    )
    jwt_jwks_url: str | None = Field(
        default=None, validation_alias=AliasChoices("jwt_jwks_url", "IC_JWT_JWKS_URL")
    )
    jwt_audience: str | None = Field(
        default=None, validation_alias=AliasChoices("jwt_audience", "IC_JWT_AUDIENCE")
    )
    jwt_issuer: str | None = Field(
        default=None, validation_alias=AliasChoices("jwt_issuer", "IC_JWT_ISSUER"),
        description="the iss every token must carry; required with IC_ENV=production")
    cursor_secret: str | None = Field(
        default=None, validation_alias=AliasChoices("cursor_secret", "IC_CURSOR_SECRET"), repr=False,
        description="the secret list cursors are signed with (HMAC-SHA256, a key per service); unset: derived "
                    "from IC_JWT_SECRET. Every replica of a service needs the same")
    jwt_leeway_s: float = Field(
        default=30.0, ge=0, le=300, validation_alias=AliasChoices("jwt_leeway_s", "IC_JWT_LEEWAY_S"),
        description="clock skew allowed when checking exp, nbf and iat")
    jwt_max_lifetime_s: float | None = Field(
        default=12 * 3600, gt=0, validation_alias=AliasChoices("jwt_max_lifetime_s", "IC_JWT_MAX_LIFETIME_S"),
        description="the longest a token may live (exp - iat, and exp - now); tokens then need iat")
    log_level: str = "INFO"
    log_json: bool | None = None
    crypto_shredding: bool = Field(
        default=True, validation_alias=AliasChoices("crypto_shredding", "IC_CRYPTO_SHREDDING"),
        description="seal the personal fields of events with per-account data keys (issue 21; shredding). On by "
                    "default; false only in all five services at once, for example while the key vault is "
                    "restored: the events they publish meanwhile carry personal data in clear on the topics")
    data_key_master: str = Field(
        default=DEVELOPMENT_DATA_KEY_MASTER, validation_alias=AliasChoices("data_key_master", "IC_DATA_KEY_MASTER"),
        repr=False, description="the secret that wraps the data keys in the key vault; the same in every service")
    key_vault_database: str = Field(
        default="ic_key_vault", validation_alias=AliasChoices("key_vault_database", "IC_KEY_VAULT_DATABASE"),
        description="the database of the suite's key vault (data_keys), shared by the services' key rings")
    log_personal_data: bool = Field(
        default=False, description="show names, postal addresses, free text, phone numbers and e-mail addresses "
                                   "in log lines (masked by default); for a developer's machine, refused in production")
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    consumer_max_records: int = Field(default=500, ge=1)
    consumer_batch_timeout_ms: int = Field(default=50, ge=1)
    consumer_fetch_max_wait_ms: int = Field(
        default=100, ge=1, description="longest a fetch waits for records; aiokafka's 500 ms default delays "
                                       "a record on a partition left out of the fetch in flight")
    consumer_retries: int = Field(default=3, ge=0)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)
    consumer_conflict_retries: int = Field(
        default=20, ge=0, description="lost version races retried (with backoff) before the event is dead-lettered "
                                      "as conflict_retries_exhausted")
    consumer_dead_letter_retries: int = Field(
        default=5, ge=0, description="failed dead-letter publishes retried before the record is parked in the "
                                     "dead_letters_parked collection")
    outbox_sweep_interval_s: float = Field(
        default=10.0, gt=0, description="how often the outbox relay retries the documents whose publish failed, "
                                        "and sweeps when outbox_full_sweep_interval_s is unset")
    outbox_full_sweep_interval_s: float | None = Field(
        default=None, gt=0, description="how often the relay scans every outbox collection for entries left "
                                        "behind (a crash, another replica); unset: every outbox_sweep_interval_s")
    retention_interval_s: float = Field(default=3600.0, gt=0, description="how often the retention purge runs")
    retention_batch_size: int = Field(default=500, ge=1, description="records the retention purge deletes per batch")
    retention_max_batches: int = Field(default=20, ge=1, description="batches per kind and run of the retention purge")
    outbox_max_attempts: int = Field(
        default=5, ge=1, description="failed sends after which an outbox entry is parked (collection outbox_parked) "
                                     "so that its record's later events go on")
    outbox_transient_grace_s: float = Field(
        default=120.0, ge=0, description="how long an entry may fail with transient errors (no partition leader, "
                                         "a timeout) before those failures count towards outbox_max_attempts: a "
                                         "broker restart brings partitions back one by one")
    consumer_group_prefix: str = ""
    audit_retention_days: float = Field(
        default=400.0, gt=0, description="audit entries older than this are deleted by the audit retention job")
    audit_queue_size: int = Field(
        default=10_000, ge=1, description="audit entries waiting to be written; beyond, entries are dropped and "
                                          "counted in ic_audit_entries_dropped_total")
    audit_purge_interval_s: float = Field(default=3600.0, gt=0)
    audit_linger_s: float = Field(
        default=0.1, ge=0, description="the audit writer waits this long after an entry before it inserts, so "
                                       "that the entries of the requests that follow share one insert (0: one "
                                       "insert per entry when requests come one at a time)")
    gc_tuning: bool = Field(default=True, description="after start-up, freeze the process's objects and set "
                                                      "gc_thresholds; false keeps CPython's own collector settings")
    gc_thresholds: tuple[int, int, int] = (20_000, 20, 50)
    http_keep_alive_s: float = Field(
        default=75.0, gt=0,
        description="how long an idle keep-alive connection stays open; longer than clients' pool expiry "
                    "(httpx: 5 s) and load balancers' idle timeouts (60 s), so the server never closes a "
                    "connection at the moment a client reuses it")
    http_backlog: int = Field(default=4096, ge=128, description="the listen queue for connections not yet accepted")
    http_limit_concurrency: int | None = Field(
        default=None, ge=1, description="above this many open connections or tasks new requests get 503; "
                                        "unset: no limit (the event loop queues them)")

    @model_validator(mode="after")
    def _refuse_unsafe_secrets(self) -> "ServiceSettings":
        if not self.mongodb_database:
            self.mongodb_database = f"ic_{self.service_name}"
        if self.environment == "production" and not (self.jwt_issuer and self.jwt_audience):
            raise ValueError("IC_JWT_ISSUER and IC_JWT_AUDIENCE must be set when IC_ENV=production: every token's "
                             "iss and aud are checked")
        if self.kafka_security_protocol != "PLAINTEXT" and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs KAFKA_SASL_USERNAME and "
                             "KAFKA_SASL_PASSWORD")
        if self.environment == "production" and self.log_personal_data:
            raise ValueError("log_personal_data must stay false when IC_ENV=production: logs mask personal data")
        if self.environment == "production" and not self.jwt_max_lifetime_s:
            raise ValueError("IC_JWT_MAX_LIFETIME_S must be set when IC_ENV=production")
        if self.environment == "production" and self.crypto_shredding and self.uses_key_vault and (
                self.data_key_master == DEVELOPMENT_DATA_KEY_MASTER or len(self.data_key_master) < 32):
            raise ValueError("IC_DATA_KEY_MASTER must be set to a secret of at least 32 characters when "
                             "IC_ENV=production seals personal fields")
        if self.cursor_secret is not None and len(self.cursor_secret) < 32:
            raise ValueError("IC_CURSOR_SECRET must be at least 32 characters")
        if self.environment == "production" and self.jwt_jwks_url and not self.cursor_secret:
            raise ValueError("IC_CURSOR_SECRET must be set when IC_ENV=production verifies tokens by IC_JWT_JWKS_URL: "
                             "list cursors are signed with it")
        if self.environment == "production" and not self.jwt_jwks_url:
            if self.jwt_secret == DEVELOPMENT_JWT_SECRET or len(self.jwt_secret) < 32:
                raise ValueError(
                    "IC_JWT_SECRET must be set to a secret of at least 32 characters "
                    "(or IC_JWT_JWKS_URL to a key set) when IC_ENV=production"
                )
        return self

    @property
    def cursor_signing_secret(self) -> str:
        """The secret of the list cursors: ``IC_CURSOR_SECRET``, else ``IC_JWT_SECRET``."""
        return self.cursor_secret or self.jwt_secret


def load_settings(cls: type[S], **overrides: object) -> S:
    """Read and validate the settings; on an error print what is wrong and exit (fail fast)."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        prefix = cls.model_config.get("env_prefix", "")
        lines = [f"invalid settings for {cls.__name__} (environment prefix {prefix!r}):"]
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "settings"
            lines.append(f"  - {where}: {error['msg']}")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
