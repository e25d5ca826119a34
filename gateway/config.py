"""Configuration from environment variables (names are the README's table), with safe defaults.

Credentials are ``SecretStr``: their repr and str print ``**********``, so a settings object can be
logged or shown in an error without leaking them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
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
    constant_contact_shared_limits: bool = Field(
        default=True,
        description="With REDIS_URL set, count Constant Contact's rate and daily quota in Redis, shared "
        "atomically by every replica using the same token; false (or no REDIS_URL): each process counts "
        "its own, so N replicas may send N times the rate.",
    )
    shared_limits_redis_timeout_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How long a call waits for Redis to admit it before counting in this process instead "
        "(with a logged warning).",
    )

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
    request_deadline_seconds: float = Field(
        default=20.0,
        gt=0,
        description="Upstream work of one GraphQL request (every attempt, retry and wait) ends by then; "
        "a provider still unanswered is reported as PROVIDER_TIMEOUT in sources.",
    )
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
    max_contacts_per_mutation: int = Field(
        default=1000, ge=1, description="Contacts one deleteContacts or restoreContacts may name."
    )
    max_idempotency_key_length: int = Field(
        default=200, ge=1, description="Characters an idempotencyKey may have."
    )
    idempotency_ttl_seconds: float = Field(
        default=86_400.0, gt=0, description="How long a mutation's result answers retries with its key."
    )
    idempotency_store: Literal["database", "redis", "memory"] = Field(
        default="database",
        description="Where idempotency keys live: the gateway's database (durable, shared by replicas), "
        "Redis (needs REDIS_URL) or this process's memory.",
    )
    idempotency_claim_seconds: float = Field(
        default=900.0,
        gt=0,
        description="How long an unfinished request holds its key: after a crash, a retry may run again "
        "once this has passed instead of waiting for the whole TTL.",
    )
    redis_url: str | None = Field(
        default=None,
        description="If set, paging snapshots live in Redis, shared by every replica (and idempotency keys, "
        "with IDEMPOTENCY_STORE=redis).",
    )

    # The gateway's own database
    data_dir: Path = Field(
        default=Path("var"),
        description="Directory of the embedded SQLite database (relative to the working directory); "
        "created on first start.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASSWORD@HOST/DB; "
        "default: DATA_DIR/gateway.db. A secret: it may hold a password.",
    )
    database_migrate_on_start: bool = Field(
        default=True,
        description="Apply pending migrations at start; false: refuse to start while the database is behind.",
    )
    database_pool_size: int = Field(default=5, ge=1, description="PostgreSQL: connections kept open.")
    database_max_overflow: int = Field(
        default=10, ge=0, description="PostgreSQL: extra connections at peaks."
    )
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    database_pool_recycle_seconds: float = Field(default=1800.0, gt=0)
    database_migration_wait_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a starting replica waits for another one's migration to finish.",
    )
    database_plain_sqlite_selects: bool = Field(
        default=True,
        description="SQLite: the index's reads run on plain connections (the driver opens no transaction "
        "for a SELECT); false: on AUTOCOMMIT ones, as other reads (an isolation-level switch each way).",
    )
    database_sqlite_select_threads: int = Field(
        default=2,
        ge=0,
        description="SQLite: threads that run the index's reads whole, each on a synchronous connection "
        "(one hand-over per read); 0: reads go through aiosqlite's thread step by step.",
    )
    database_busy_timeout_seconds: float = Field(
        default=5.0, ge=0, description="SQLite: how long a writer waits for another's lock before failing."
    )
    # The synced index of deleted contacts (README, "The index")
    index: bool = Field(
        default=True,
        description="Keep an index of every deleted contact in the gateway's database, synced from the "
        "providers, and answer listings from it; false: every first page reads the providers.",
    )
    sync_in_process: bool = Field(
        default=True,
        description="gateway serve runs the sync loop itself (one replica leads at a time); false: run "
        "`gateway sync` as its own process.",
    )
    sync_interval_seconds: float = Field(default=60.0, gt=0, description="Time between two delta syncs.")
    sync_overlap_seconds: float = Field(
        default=300.0,
        ge=0,
        description="A delta reads from this long before the last sync began, for changes recorded late.",
    )
    sync_reconcile_seconds: float = Field(
        default=86_400.0,
        gt=0,
        description="Time between two full reconciles (a complete read that repairs what deltas missed).",
    )
    sync_write_through_margin_seconds: float = Field(
        default=60.0,
        ge=0,
        description="After a mutation, the index reads the provider's changes from this long before its "
        "writes (the provider's clock and the gateway's differ).",
    )
    sync_lease_seconds: float = Field(
        default=30.0,
        gt=0,
        description="SQLite: how long the sync leader's lease lasts without renewal (PostgreSQL: an "
        "advisory lock, held while the leader's connection lives).",
    )
    sync_getresponse_rows_per_reply: int = Field(
        default=5_000,
        ge=100,
        description="Backfill: GetResponse's deletions are read in deleted_on ranges of about this many.",
    )
    answer_cache: bool = Field(
        default=True,
        description="Reuse an answer the index gave while the index is unchanged (queries of index-only "
        "fields, nothing clock-dependent; each replica its own). false: every query runs.",
    )
    answer_cache_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Most bytes (encoded JSON) of reused answers one replica holds; the least recently "
        "used go first.",
    )
    index_state_ttl_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long a replica reuses the sync state it read (readiness and lagSeconds of pages).",
    )
    index_states_change_check: bool = Field(
        default=True,
        description="SQLite: the sync states are read again only when the database file changed since "
        "(PRAGMA data_version); false: read each time they are asked for.",
    )
    index_memo_contacts: int = Field(
        default=5_000,
        ge=0,
        description="Contacts of index pages each process keeps decoded and presented (by row identity "
        "and content; a few KB each), so an unchanged row is not decoded again; 0: every page decodes "
        "its rows.",
    )
    index_memo_statements: int = Field(
        default=1_000,
        ge=0,
        description="Page statements of the index each process keeps built, by filter and page shape "
        "(the cursor's place is a bound parameter); 0: every page builds its statement.",
    )
    # Who may call (README, "Security model")
    auth_mode: Literal["on", "off"] = Field(
        default="on",
        description="on: every GraphQL request needs a service key or an OIDC access token; off: local "
        "development only, every request may do anything (gateway serve refuses it on a non-loopback host).",
    )
    auth_issuer: str | None = Field(
        default=None,
        description="OIDC issuer whose access tokens are accepted (the token's iss); unset: none.",
    )
    auth_audience: str | None = Field(
        default=None, description="The audience a token must carry (aud); required with AUTH_ISSUER."
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="Where the issuer publishes its keys; default: jwks_uri of the issuer's "
        "/.well-known/openid-configuration.",
    )
    auth_algorithms: list[str] = Field(
        default=["RS256", "PS256", "ES256", "EdDSA"],
        description="Signature algorithms a token may use (asymmetric only: none and HS* are refused).",
    )
    auth_leeway_seconds: float = Field(
        default=30.0, ge=0, le=300, description="Clock skew tolerated on exp, nbf and iat."
    )
    auth_jwks_cache_seconds: float = Field(
        default=300.0, gt=0, description="How long the issuer's keys are used before being fetched again."
    )
    auth_jwks_min_refresh_seconds: float = Field(
        default=10.0,
        ge=0,
        description="A token naming an unknown key id fetches the keys again, at most this often.",
    )
    auth_jwks_timeout_seconds: float = Field(default=5.0, gt=0, description="Timeout of each JWKS fetch.")
    auth_max_token_length: int = Field(
        default=8192, ge=64, description="Longest bearer credential read; longer ones are refused unread."
    )
    api_key_cache: bool = Field(
        default=True,
        description="Recognise verified service keys from memory until any key is revoked (the revocation "
        "count is still read per request); off: read the key's row on every request.",
    )
    api_key_cache_size: int = Field(default=1024, ge=1, description="Service keys kept in that cache.")
    audit_retention_days: float = Field(
        default=365.0,
        gt=0,
        description="Audit events older than this are deleted (at start and by `gateway audit prune`).",
    )
    audit_page_size_max: int = Field(default=500, ge=1, description="Largest `first` of auditEvents.")
    api_key_touch_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A key's last_used_at is written at most this often (per key, not per request).",
    )

    # Input bounds (gateway.core.input_limits): longer strings, longer lists and days outside the
    # range are BAD_USER_INPUT before any provider is asked.
    input_max_email_length: int = Field(default=254, ge=1, description="Characters in an address.")
    input_max_pattern_length: int = Field(default=254, ge=1, description="Characters in a text condition.")
    input_max_id_length: int = Field(
        default=128, ge=1, description="Characters in a provider id (contact, list, campaign, message)."
    )
    input_max_global_id_length: int = Field(default=256, ge=1, description="Characters in a global id.")
    input_max_cursor_length: int = Field(default=256, ge=1, description="Characters in a cursor.")
    input_min_reason_length: int = Field(
        default=10, ge=1, description="Characters a consent override's reason needs at least."
    )
    input_max_reason_length: int = Field(
        default=2_000, ge=1, description="Characters in a consent override's reason."
    )
    input_max_list_items: int = Field(
        default=100, ge=1, description="Conditions or ids in one list of a filter; list ids of a restore."
    )
    max_emails_per_lookup: int = Field(default=100, ge=1, description="Addresses per deletedContactsByEmail.")
    max_nodes_per_lookup: int = Field(default=200, ge=1, description="Ids per nodes(ids:).")
    input_earliest_day: date = Field(
        default=date(1970, 1, 1), description="First day a date condition may name (no contact is older)."
    )
    input_latest_day: date = Field(
        default=date(9999, 12, 30),
        description="Last day a date condition may name (the calendar's last but one: a `to` day becomes "
        "the next day's midnight).",
    )

    # GraphQL request limits, per application instance (the schema is built from them, gateway/app.py)
    max_query_depth: int = Field(default=10, ge=1, description="Deepest field nesting a query may have.")
    max_aliases: int = Field(default=30, ge=1, description="Aliases a query may use.")
    max_fragment_chain: int = Field(
        default=32,
        ge=1,
        description="Fragment spreads one chain may pass through (a spreads b, b spreads c...).",
    )
    max_query_tokens: int = Field(
        default=5000, ge=1, description="Lexical tokens a query text may have; the parser stops past it."
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1, description="Largest POST body read, in bytes.")
    query_cache_size: int = Field(
        default=128,
        ge=1,
        description="Query texts whose parsed (and, with the speed layer, validated) documents are kept.",
    )
    principal_budgets: bool = Field(
        default=True, description="Charge every request to its principal's rate and daily cost (below)."
    )
    principal_requests_per_minute: int = Field(
        default=600, ge=1, description="Requests one principal may send per minute (a key may carry its own)."
    )
    principal_daily_cost: int = Field(
        default=20_000,
        ge=1,
        description="Query cost one principal may spend per UTC day (a key may carry its own); "
        "README, 'Query cost'.",
    )
    principal_write_reserve: float = Field(
        default=0.2,
        ge=0,
        lt=1,
        description="Share of the daily cost only mutations may use (reads cannot starve deletes and "
        "restores).",
    )
    readiness_timeout_seconds: float = Field(
        default=2.0, gt=0, description="How long /readyz waits for each store (database, Redis) to answer."
    )
    max_query_cost: int = Field(
        default=2000,
        ge=1,
        description="Upstream requests one GraphQL request may cost at worst (README, 'Query cost'); "
        "over it: COST_LIMIT_EXCEEDED, nothing runs.",
    )
    cost_listing: int = Field(
        default=50, ge=0, description="Cost of a first page, per provider (it reads the whole listing)."
    )
    cost_page: int = Field(default=1, ge=0, description="Cost of a later page (read from its snapshot).")
    cost_lookup: int = Field(
        default=1, ge=0, description="Cost of a lookup (an id; an address, per provider) or a list."
    )
    cost_mutation_contact: int = Field(default=1, ge=0, description="Cost of each contact a mutation names.")
    introspection: bool = Field(
        default=True,
        description="false: introspection queries are refused and validation errors suggest no field "
        "names (a locked-down production; GraphiQL and code generators then need schema.graphql).",
    )
    persisted_queries: bool = Field(
        default=True,
        description="Apollo's automatic persisted queries: a request may send a registered document's "
        "SHA-256 instead of its text (README, 'Persisted queries'); false: PERSISTED_QUERY_NOT_SUPPORTED.",
    )
    persisted_queries_store: Literal["database", "redis", "memory"] = Field(
        default="database",
        description="Where registered documents live: the gateway's database (durable, shared by "
        "replicas), Redis (needs REDIS_URL) or this process's memory.",
    )
    persisted_queries_max_entries: int = Field(
        default=10_000, ge=1, description="Documents the memory store keeps (least recently used go first)."
    )
    persisted_queries_ttl_seconds: float = Field(
        default=30 * 86_400.0, gt=0, description="Redis store: a document unused this long is forgotten."
    )
    trusted_documents: Path | None = Field(
        default=None,
        description="A JSON manifest {sha256: document} (GraphQL Code Generator's client preset, Relay); "
        "set: only its documents run, by hash or by text, and nothing is registered.",
    )
    cors_allow_origins: list[str] = Field(
        default=[],
        description='Browser origins allowed to call the gateway (CORS), e.g. ["https://support.example"]; '
        "default none.",
    )
    cors_max_age_seconds: int = Field(default=600, ge=0, description="How long a browser caches a preflight.")
    compression_minimum_bytes: int = Field(
        default=1024,
        ge=0,
        description="Answers at least this long are gzip-compressed for clients that accept it; 0: never.",
    )
    speed_layer: bool = Field(
        default=True,
        description="Cached validation and direct completion of plain objects (gateway/schema/fast/); "
        "off: Strawberry's own execution.",
    )

    log_level: str = "INFO"

    # Observability (gateway/observability/)
    metrics: Literal["open", "off", "port", "scope"] = Field(
        default="open",
        description="/metrics: open to anyone who reaches the port, off, on its own port (METRICS_PORT) "
        "only, or behind the scope the application's metrics guard checks (scope).",
    )
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="Port of /metrics with METRICS=port.")
    metrics_operation_names: int = Field(
        default=100,
        ge=0,
        description="Distinct GraphQL operation names given their own metric series; later ones count "
        "as 'other'.",
    )
    log_format: Literal["text", "json"] = Field(default="text", description="json: one object per line.")
    log_pii: bool = Field(default=False, description="Show email addresses in log lines (masked by default).")
    access_log: bool = Field(default=True, description="One log line per HTTP request (gateway.access).")
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector base URL (e.g. http://collector:4318); set: traces are exported, "
        "unset: OpenTelemetry is not even loaded.",
    )
    otel_service_name: str = Field(default="deleted-contacts-gateway", description="service.name of traces.")
    gc_tuning: bool = Field(
        default=True,
        description="Freeze start-up objects and collect garbage less often (gateway/runtime.py).",
    )

    # The deletion feed's subscriptions and GetResponse's callback (README, "Deletion feed: subscriptions")
    feed_poll_seconds: float = Field(
        default=0.5, gt=0, description="Time between two reads of the outbox by each replica's feed poller."
    )
    feed_batch_size: int = Field(default=500, ge=1, description="Events per read of the outbox.")
    feed_retention_days: float = Field(
        default=30.0,
        gt=0,
        description="How long the outbox keeps events (the sync leader prunes older ones); a subscription "
        "resuming after a pruned position is refused (FEED_POSITION_EXPIRED).",
    )
    feed_subscriber_queue_size: int = Field(
        default=1000,
        ge=1,
        description="Events buffered per live subscriber; one further behind is closed (SUBSCRIBER_TOO_SLOW) "
        "and resumes with after.",
    )
    feed_max_subscriptions_per_principal: int = Field(
        default=10,
        ge=1,
        description="Live subscriptions one principal may hold on one replica (SUBSCRIPTION_LIMIT_EXCEEDED).",
    )
    feed_max_connections_per_principal: int = Field(
        default=10,
        ge=1,
        description="Open subscription WebSockets one principal may hold on one replica; one more is "
        "refused at connection_init (4403).",
    )
    feed_keepalive_seconds: float = Field(
        default=15.0, gt=0, description="A quiet SSE subscription sends a comment this often."
    )
    feed_connection_init_seconds: float = Field(
        default=10.0, gt=0, description="How long a WebSocket may wait before its connection_init (4408)."
    )
    getresponse_callback_secret: SecretStr | None = Field(
        default=None,
        description="The shared secret in the callback URL registered at GetResponse (gateway callbacks "
        "register); unset: /callbacks/getresponse refuses every call.",
    )

    # Webhooks of the deletion feed (README, "Webhooks")
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Allow http and non-public target addresses (loopback, private, link-local): tests "
        "and receivers inside a trusted network only.",
    )
    webhook_poll_seconds: float = Field(
        default=5.0, gt=0, description="How often the dispatcher looks for new events and due retries."
    )
    webhook_retry_seconds: float = Field(
        default=86_400.0, gt=0, description="How long a delivery is retried before it is dead-lettered."
    )
    webhook_backoff_base_seconds: float = Field(
        default=10.0, gt=0, description="The first retry's backoff cap; it doubles with each failure."
    )
    webhook_backoff_max_seconds: float = Field(
        default=3_600.0, gt=0, description="The largest backoff cap (each wait is a random share of it)."
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="One delivery attempt's timeout.")
    webhook_batch: int = Field(
        default=200, ge=1, description="Events read and deliveries attempted per dispatcher pass and step."
    )
    webhook_concurrency: int = Field(default=16, ge=1, description="Deliveries in flight at once.")
    webhook_max_per_principal: int = Field(
        default=20, ge=1, description="Webhooks one principal may register."
    )
    webhook_delivered_retention_days: float = Field(
        default=7.0, gt=0, description="How long delivered deliveries are kept (dead letters stay)."
    )
    webhook_dead_letters_shown: int = Field(
        default=50, ge=0, description="Dead-lettered deliveries listed per webhook (newest first)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.input_earliest_day > self.input_latest_day:
            raise ValueError("input_earliest_day is after input_latest_day")
        if self.idempotency_store == "redis" and not self.redis_url:
            raise ValueError("IDEMPOTENCY_STORE=redis needs REDIS_URL")
        if self.persisted_queries_store == "redis" and not self.redis_url:
            raise ValueError("PERSISTED_QUERIES_STORE=redis needs REDIS_URL")
        if (self.auth_issuer is None) != (self.auth_audience is None):
            raise ValueError("AUTH_ISSUER and AUTH_AUDIENCE go together")
        unsafe = [
            alg for alg in self.auth_algorithms if alg.lower() == "none" or alg.upper().startswith("HS")
        ]
        if unsafe:
            raise ValueError(
                f"AUTH_ALGORITHMS may not hold {', '.join(unsafe)}: tokens are checked with the issuer's "
                "public keys, never with no key or a shared secret"
            )
        if not self.auth_algorithms:
            raise ValueError("AUTH_ALGORITHMS needs at least one algorithm")
        return self

    @property
    def constant_contact_configured(self) -> bool:
        return bool(self.constant_contact_base_url and self.constant_contact_access_token)

    @property
    def getresponse_configured(self) -> bool:
        return bool(self.getresponse_api_url and self.getresponse_api_key)
