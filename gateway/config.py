"""Configuration from environment variables (names are the README's table), with safe defaults.

Credentials are ``SecretStr``: their repr and str print ``**********``, so a settings object can be
logged or shown in an error without leaking them.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    # Constant Contact v3
    constant_contact_base_url: str | None = Field(
        default=None, description="Scheme and host of the v3 API, e.g. https://api.cc.email"
    )
    constant_contact_access_token: SecretStr | None = None
    constant_contact_refresh_token: SecretStr | None = None
    constant_contact_client_id: str | None = None
    constant_contact_client_secret: SecretStr | None = None
    constant_contact_token_url: str = "https://authz.constantcontact.com/oauth2/default/v1/token"
    constant_contact_rate_per_second: float = Field(default=4.0, gt=0)
    constant_contact_daily_quota: int = Field(default=10_000, gt=0)

    # GetResponse 1.5
    getresponse_api_url: str | None = Field(default=None, description="e.g. https://api2.getresponse.com")
    getresponse_api_key: SecretStr | None = None
    getresponse_batching: bool = True

    # Resilience, per provider
    provider_connect_timeout: float = Field(default=3.0, gt=0)
    provider_read_timeout: float = Field(default=10.0, gt=0)
    provider_total_timeout: float = Field(default=15.0, gt=0)
    retry_max_attempts: int = Field(default=3, ge=1)
    retry_budget_seconds: float = Field(default=5.0, ge=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)

    # Paging
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=500, ge=1)
    snapshot_ttl_seconds: float = Field(default=600.0, gt=0)
    snapshot_max_entries: int = Field(default=100_000, ge=1)
    snapshot_memory_entries: int = Field(
        default=300_000,
        ge=1,
        description="In-memory store: entries held across snapshots before the oldest go.",
    )
    listing_cache_seconds: float = Field(
        default=0.0,
        ge=0,
        description="Reuse a provider's finished first-page listing this long (0: share only in flight).",
    )
    idempotency_ttl_seconds: float = Field(
        default=86_400.0, gt=0, description="How long a mutation's result answers retries with its key."
    )
    redis_url: str | None = Field(
        default=None,
        description="If set, paging snapshots and idempotency keys live in Redis, shared by every replica.",
    )

    # GraphQL request limits, per application instance (the schema is built from them, gateway/app.py)
    max_query_depth: int = Field(default=10, ge=1, description="Deepest field nesting a query may have.")
    max_aliases: int = Field(default=30, ge=1, description="Aliases a query may use.")
    max_query_tokens: int = Field(
        default=5000, ge=1, description="Lexical tokens a query text may have; the parser stops past it."
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, description="Largest POST body read, in bytes.")
    query_cache_size: int = Field(
        default=128,
        ge=1,
        description="Query texts whose parsed (and, with the speed layer, validated) documents are kept.",
    )
    speed_layer: bool = Field(
        default=True,
        description="Cached validation and direct completion of plain objects (gateway/schema/fast/); "
        "off: Strawberry's own execution.",
    )

    log_level: str = "INFO"
    gc_tuning: bool = Field(
        default=True,
        description="Freeze start-up objects and collect garbage less often (gateway/runtime.py).",
    )

    @property
    def constant_contact_configured(self) -> bool:
        return bool(self.constant_contact_base_url and self.constant_contact_access_token)

    @property
    def getresponse_configured(self) -> bool:
        return bool(self.getresponse_api_url and self.getresponse_api_key)
