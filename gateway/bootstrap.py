"""The composition root: settings in, wired services out (clients -> adapters -> ports, snapshot store,
the gateway's database -> service keys, idempotency records, the audit trail and the synced index; the
sync worker over the providers' sync sources)."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.exc import SQLAlchemyError

from .config import Settings
from .core.answer_cache import AnswerCache
from .core.audit import retention_cutoff
from .core.batch_watch import BatchWatch
from .core.budgets import (
    BudgetCounter,
    BudgetPolicy,
    MemoryBudgetCounter,
    PrincipalBudgets,
    RedisBudgetCounter,
)
from .core.deleted_pages import IndexAccess
from .core.idempotency import MemoryIdempotencyStore, RedisIdempotencyStore
from .core.index import SyncSource
from .core.input_limits import InputLimits
from .core.model import Provider
from .core.persisted_documents import (
    MemoryPersistedDocuments,
    PersistedDocumentStore,
    RedisPersistedDocuments,
)
from .core.ports import DeletedContactsPort
from .core.services import Services
from .core.shared_listings import SharedListings
from .core.snapshots import MemorySnapshotStore, RedisSnapshotStore, SnapshotStore
from .core.store_ports import CredentialVerifier, PrincipalIdempotencyStore
from .errors import DatabaseError, GatewayError
from .identity import JwksSource, TokenPolicy, TokenVerifier
from .providers.allowance import CallAllowance, ProcessAllowance
from .providers.constant_contact.adapter import ConstantContactAdapter
from .providers.constant_contact.auth import OAuthRefresh
from .providers.constant_contact.client import ConstantContactClient
from .providers.constant_contact.sync import ConstantContactSyncSource
from .providers.getresponse.adapter import GetResponseAdapter
from .providers.getresponse.client import GetResponseClient
from .providers.getresponse.sync import GetResponseSyncSource
from .providers.observation import NO_OBSERVER, UpstreamObserver
from .providers.resilience import CircuitBreaker, RetryPolicy, Timeouts
from .providers.shared_allowance import RedisAllowance
from .store import (
    Database,
    DatabaseAuditTrail,
    DatabaseIdempotencyStore,
    DatabaseIndex,
    DatabasePersistedDocuments,
    KeyStore,
    ensure_schema,
    leadership,
)
from .store.key_cache import CachedKeyVerifier
from .store.outbox import DatabaseEventLog
from .store.revocations import revocation_counter
from .store.webhooks import DatabaseWebhookStore
from .sync import ProviderSync, SyncProgress, SyncReport, SyncWorker
from .sync.write_through import WriteThrough
from .webhooks import DispatchReport, HttpSender, TargetPolicy, WebhookDispatcher, WebhookRegistry
from .webhooks import RetryPolicy as WebhookRetryPolicy

__all__ = [
    "build_services",
    "build_sync_worker",
    "build_webhook_dispatcher",
    "credential_verifiers",
    "deliver_webhooks_once",
    "input_limits",
    "open_database",
    "run_sync_with_webhooks",
    "webhook_registry",
]

logger = logging.getLogger("gateway.store")


async def open_database(settings: Settings) -> Database:
    """The gateway's database, at the code's migration revision (upgraded or refused, as
    ``DATABASE_MIGRATE_ON_START`` says), with expired idempotency records and audit events past
    their retention cleared away."""
    database = Database.from_settings(settings)
    try:
        await ensure_schema(
            database,
            migrate=settings.database_migrate_on_start,
            wait_seconds=settings.database_migration_wait_seconds,
        )
        try:
            await _idempotency_records(settings, database).purge_expired()
        except SQLAlchemyError as error:  # housekeeping only: expired records are ignored when read
            logger.warning("could not clear expired idempotency records: %s", database.reason(error))
        try:
            await DatabaseAuditTrail(database).prune(retention_cutoff(settings.audit_retention_days))
        except DatabaseError as error:  # housekeeping only: the next start, or `gateway audit prune`
            logger.warning("could not prune the audit trail: %s", error.message)
    except BaseException:
        await database.aclose()
        raise
    return database


def _idempotency_records(settings: Settings, database: Database) -> DatabaseIdempotencyStore:
    return DatabaseIdempotencyStore(
        database, ttl=settings.idempotency_ttl_seconds, claim_seconds=settings.idempotency_claim_seconds
    )


def _snapshot_store(settings: Settings) -> SnapshotStore:
    if settings.redis_url:
        return RedisSnapshotStore(
            settings.redis_url, ttl=settings.snapshot_ttl_seconds, max_entries=settings.snapshot_max_entries
        )
    return MemorySnapshotStore(
        ttl=settings.snapshot_ttl_seconds,
        max_entries=settings.snapshot_max_entries,
        memory_entries=settings.snapshot_memory_entries,
    )


def constant_contact_allowance(
    settings: Settings, token: str
) -> tuple[CallAllowance, Callable[[], Awaitable[None]] | None]:
    """Constant Contact's rate and daily quota for ``token``: shared through Redis when configured,
    else counted in this process.  The second item closes what the allowance holds open, if anything."""
    if settings.redis_url and settings.constant_contact_shared_limits:
        shared = RedisAllowance(
            settings.redis_url,
            Provider.CONSTANT_CONTACT,
            token,
            rate_per_second=settings.constant_contact_rate_per_second,
            daily_quota=settings.constant_contact_daily_quota,
            redis_timeout=settings.shared_limits_redis_timeout_seconds,
        )
        return shared, shared.aclose
    local = ProcessAllowance(
        Provider.CONSTANT_CONTACT,
        rate_per_second=settings.constant_contact_rate_per_second,
        daily_quota=settings.constant_contact_daily_quota,
    )
    return local, None


def input_limits(settings: Settings) -> InputLimits:
    return InputLimits(
        max_email_length=settings.input_max_email_length,
        max_pattern_length=settings.input_max_pattern_length,
        max_id_length=settings.input_max_id_length,
        max_global_id_length=settings.input_max_global_id_length,
        max_cursor_length=settings.input_max_cursor_length,
        max_reason_length=settings.input_max_reason_length,
        min_reason_length=settings.input_min_reason_length,
        max_idempotency_key_length=settings.max_idempotency_key_length,
        max_list_items=settings.input_max_list_items,
        max_emails_per_lookup=settings.max_emails_per_lookup,
        max_nodes_per_lookup=settings.max_nodes_per_lookup,
        max_contacts_per_mutation=settings.max_contacts_per_mutation,
        earliest_day=settings.input_earliest_day,
        latest_day=settings.input_latest_day,
    )


def _idempotency_store(settings: Settings, database: Database) -> PrincipalIdempotencyStore:
    if settings.idempotency_store == "redis":
        assert settings.redis_url, "Settings refuses IDEMPOTENCY_STORE=redis without REDIS_URL"
        return RedisIdempotencyStore(settings.redis_url, ttl=settings.idempotency_ttl_seconds)
    if settings.idempotency_store == "memory":
        return MemoryIdempotencyStore(ttl=settings.idempotency_ttl_seconds)
    return _idempotency_records(settings, database)


def _persisted_documents(settings: Settings, database: Database) -> PersistedDocumentStore:
    if settings.persisted_queries_store == "redis":
        assert settings.redis_url, "Settings refuses PERSISTED_QUERIES_STORE=redis without REDIS_URL"
        return RedisPersistedDocuments(settings.redis_url, ttl=settings.persisted_queries_ttl_seconds)
    if settings.persisted_queries_store == "memory":
        return MemoryPersistedDocuments(max_entries=settings.persisted_queries_max_entries)
    return DatabasePersistedDocuments(database)


def credential_verifiers(
    settings: Settings, database: Database
) -> tuple[tuple[CredentialVerifier, ...], list[Callable[[], Awaitable[None]]]]:
    """Service keys (cached, if configured) and, with an issuer configured, OIDC access tokens."""
    keys = KeyStore(database, touch_interval=settings.api_key_touch_seconds)
    verifiers: list[CredentialVerifier] = [keys]
    closers: list[Callable[[], Awaitable[None]]] = []
    if settings.api_key_cache:
        cached = CachedKeyVerifier(
            keys,
            revocation_counter(database, timeout=settings.database_pool_timeout_seconds),
            max_entries=settings.api_key_cache_size,
            touch_interval=settings.api_key_touch_seconds,
        )
        verifiers = [cached]
        closers.append(cached.aclose)
    if settings.auth_issuer is not None and settings.auth_audience is not None:
        client = httpx.AsyncClient(timeout=settings.auth_jwks_timeout_seconds, follow_redirects=False)
        closers.append(client.aclose)
        jwks = JwksSource(
            client,
            jwks_url=settings.auth_jwks_url,
            issuer=settings.auth_issuer,
            cache_seconds=settings.auth_jwks_cache_seconds,
            min_refresh_seconds=settings.auth_jwks_min_refresh_seconds,
        )
        policy = TokenPolicy(
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            algorithms=tuple(settings.auth_algorithms),
            leeway_seconds=settings.auth_leeway_seconds,
            max_token_length=settings.auth_max_token_length,
        )
        verifiers.append(TokenVerifier(policy, jwks))
    return tuple(verifiers), closers


def _principal_budgets(settings: Settings) -> PrincipalBudgets | None:
    if not settings.principal_budgets:
        return None
    counter: BudgetCounter = (
        RedisBudgetCounter(settings.redis_url) if settings.redis_url else MemoryBudgetCounter()
    )
    policy = BudgetPolicy(
        requests_per_minute=settings.principal_requests_per_minute,
        daily_cost=settings.principal_daily_cost,
        write_reserve=settings.principal_write_reserve,
    )
    return PrincipalBudgets(counter, policy)


def build_services(
    settings: Settings,
    *,
    database: Database,
    constant_contact_transport: httpx.AsyncBaseTransport | None = None,
    getresponse_transport: httpx.AsyncBaseTransport | None = None,
    upstream_observer: UpstreamObserver = NO_OBSERVER,
    batch_watch: BatchWatch | None = None,
) -> Services:
    """``upstream_observer`` watches every provider exchange (the application's metrics and traces),
    ``batch_watch`` every DataLoader batch (traces)."""
    timeouts = Timeouts(
        connect=settings.provider_connect_timeout,
        read=settings.provider_read_timeout,
        total=settings.provider_total_timeout,
    )
    retry = RetryPolicy(max_attempts=settings.retry_max_attempts, budget=settings.retry_budget_seconds)

    def breaker(provider: Provider) -> CircuitBreaker:
        return CircuitBreaker(
            provider,
            failure_threshold=settings.breaker_failure_threshold,
            reset_timeout=settings.breaker_reset_seconds,
        )

    ports: dict[Provider, DeletedContactsPort] = {}
    sources: dict[Provider, SyncSource] = {}
    constant_contact = getresponse = None
    allowance_closers: list[Callable[[], Awaitable[None]]] = []
    if settings.constant_contact_configured:
        assert settings.constant_contact_base_url and settings.constant_contact_access_token
        refresh = None
        if (
            settings.constant_contact_refresh_token
            and settings.constant_contact_client_id
            and settings.constant_contact_client_secret
        ):
            refresh = OAuthRefresh(
                token_url=settings.constant_contact_token_url,
                client_id=settings.constant_contact_client_id,
                client_secret=settings.constant_contact_client_secret.get_secret_value(),
                refresh_token=settings.constant_contact_refresh_token.get_secret_value(),
            )
        access_token = settings.constant_contact_access_token.get_secret_value()
        allowance, close_allowance = constant_contact_allowance(settings, access_token)
        if close_allowance is not None:
            allowance_closers.append(close_allowance)
        cc_client = ConstantContactClient(
            base_url=settings.constant_contact_base_url,
            access_token=access_token,
            refresh=refresh,
            transport=constant_contact_transport,
            timeouts=timeouts,
            retry=retry,
            breaker=breaker(Provider.CONSTANT_CONTACT),
            allowance=allowance,
            observer=upstream_observer,
        )
        constant_contact = ConstantContactAdapter(cc_client)
        ports[Provider.CONSTANT_CONTACT] = constant_contact
        sources[Provider.CONSTANT_CONTACT] = ConstantContactSyncSource(cc_client)
    if settings.getresponse_configured:
        assert settings.getresponse_api_url and settings.getresponse_api_key
        gr_client = GetResponseClient(
            api_url=settings.getresponse_api_url,
            api_key=settings.getresponse_api_key.get_secret_value(),
            transport=getresponse_transport,
            timeouts=timeouts,
            retry=retry,
            breaker=breaker(Provider.GETRESPONSE),
            batching=settings.getresponse_batching,
            observer=upstream_observer,
        )
        getresponse = GetResponseAdapter(gr_client)
        ports[Provider.GETRESPONSE] = getresponse
        sources[Provider.GETRESPONSE] = GetResponseSyncSource(
            gr_client, max_rows_per_reply=settings.sync_getresponse_rows_per_reply
        )
    credentials, closers = credential_verifiers(settings, database)
    budgets = _principal_budgets(settings)
    if budgets is not None:
        closers.append(budgets.aclose)
    index = (
        IndexAccess(
            DatabaseIndex(
                database,
                memo_contacts=settings.index_memo_contacts,
                memo_statements=settings.index_memo_statements,
                states_check=settings.index_states_change_check,
            ),
            state_ttl=settings.index_state_ttl_seconds,
            memo_contacts=settings.index_memo_contacts,
        )
        if settings.index
        else None
    )
    answers = (
        AnswerCache(index, ports, max_bytes=settings.answer_cache_max_bytes)
        if index is not None and settings.answer_cache and settings.answer_cache_max_bytes > 0
        else None
    )
    return Services(
        ports=ports,
        snapshots=_snapshot_store(settings),
        listings=SharedListings(ttl=settings.listing_cache_seconds),
        idempotency=_idempotency_store(settings, database),
        credentials=credentials,
        budgets=budgets,
        closers=closers + allowance_closers,
        audit=DatabaseAuditTrail(database),
        audit_default_page_size=min(settings.page_size_default, settings.audit_page_size_max),
        audit_max_page_size=settings.audit_page_size_max,
        default_page_size=settings.page_size_default,
        max_page_size=settings.page_size_max,
        limits=input_limits(settings),
        getresponse=getresponse,
        constant_contact=constant_contact,
        answers=answers,
        batch_watch=batch_watch,
        persisted_documents=_persisted_documents(settings, database),
        index=index,
        sync_sources=sources,
        index_written=(
            WriteThrough(sources, index, margin=settings.sync_write_through_margin_seconds)
            if index is not None
            else None
        ),
        webhooks=webhook_registry(settings, database) if index is not None else None,
    )


def build_sync_worker(
    settings: Settings,
    services: Services,
    database: Database,
    *,
    on_report: Callable[[SyncReport], None] | None = None,
    on_failure: Callable[[ProviderSync, GatewayError], None] | None = None,
    on_progress: Callable[[SyncProgress], None] | None = None,
) -> SyncWorker | None:
    """The sync of every configured provider into the index (None without an index or providers)."""
    if services.index is None or not services.sync_sources:
        return None
    syncs = [
        ProviderSync(
            source,
            services.index.index,
            overlap=settings.sync_overlap_seconds,
            reconcile_every=settings.sync_reconcile_seconds,
            progress=on_progress,
        )
        for source in services.sync_sources.values()
    ]
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    events = DatabaseEventLog(database)
    retention = timedelta(days=settings.feed_retention_days)

    access = services.index

    async def after_pass() -> None:
        # A leader serving requests too (SYNC_IN_PROCESS) shows the pass's sync states at once; other
        # replicas within INDEX_STATE_TTL_SECONDS (their reused answers: at their next query).
        access.forget_states()
        # The feed's retention, by the sync leader after each pass: a range DELETE on recorded_at's
        # index, which finds nothing to do most of the time.
        await events.prune(datetime.now(UTC) - retention)

    return SyncWorker(
        syncs,
        leadership(
            database, "deleted-contact-index", holder=holder, lease_seconds=settings.sync_lease_seconds
        ),
        interval=settings.sync_interval_seconds,
        on_report=on_report,
        on_failure=on_failure,
        housekeeping=after_pass,
    )


# -- webhooks of the deletion feed (gateway.webhooks) ---------------------------------------------------


def webhook_target_policy(settings: Settings) -> TargetPolicy:
    return TargetPolicy(allow_private=settings.webhook_allow_private_targets)


def webhook_registry(settings: Settings, database: Database) -> WebhookRegistry:
    """Register, list, remove and replay webhooks (GraphQL's), over the outbox and the database."""
    return WebhookRegistry(
        DatabaseWebhookStore(database),
        DatabaseEventLog(database),
        webhook_target_policy(settings),
        max_per_principal=settings.webhook_max_per_principal,
        max_url_length=2000,
        dead_letters_shown=settings.webhook_dead_letters_shown,
    )


def build_webhook_dispatcher(
    settings: Settings,
    services: Services,
    database: Database,
    *,
    clock: Callable[[], datetime] | None = None,
    retry: WebhookRetryPolicy | None = None,
) -> tuple[WebhookDispatcher, Callable[[], Awaitable[None]]] | None:
    """The sync leader's dispatcher and what closes its HTTP client (None without the index).
    ``clock`` and ``retry`` replace the real ones (tests move time past a backoff)."""
    if services.index is None:
        return None
    if settings.webhook_allow_private_targets:
        logger.warning("webhooks: WEBHOOK_ALLOW_PRIVATE_TARGETS=true: http and private addresses allowed")
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.webhook_timeout_seconds),
        follow_redirects=False,
        limits=httpx.Limits(
            max_connections=settings.webhook_concurrency,
            max_keepalive_connections=settings.webhook_concurrency,
        ),
        trust_env=False,  # a proxy from the environment would connect to the host, not the checked address
    )
    dispatcher = WebhookDispatcher(
        DatabaseWebhookStore(database),
        DatabaseEventLog(database),
        services.ports,
        webhook_target_policy(settings),
        HttpSender(client, total_timeout=settings.webhook_timeout_seconds),
        retry
        or WebhookRetryPolicy(
            window_seconds=settings.webhook_retry_seconds,
            base_seconds=settings.webhook_backoff_base_seconds,
            max_seconds=settings.webhook_backoff_max_seconds,
        ),
        batch=settings.webhook_batch,
        concurrency=settings.webhook_concurrency,
        delivered_retention=timedelta(days=settings.webhook_delivered_retention_days),
        clock=clock,
    )
    return dispatcher, client.aclose


async def deliver_webhooks_once(settings: Settings, services: Services, database: Database) -> DispatchReport:
    """What ``gateway sync --once`` does for webhooks after its pass, while it still leads: queue the
    new events and attempt every delivery due now, batch after batch (a failed attempt is scheduled
    for a later run, as the loop would)."""
    built = build_webhook_dispatcher(settings, services, database)
    if built is None:
        return DispatchReport()
    dispatcher, close = built
    total = DispatchReport()
    try:
        while True:
            total += await dispatcher.run_once()
            if not total.full:
                return total
    finally:
        await close()


async def run_sync_with_webhooks(
    settings: Settings, services: Services, database: Database, worker: SyncWorker
) -> None:
    """The sync loop and, beside it, the webhook dispatcher, which works only while this process
    leads the sync (``worker.leading``): one dispatcher among the replicas.  Ends when cancelled."""
    built = build_webhook_dispatcher(settings, services, database)
    if built is None:
        await worker.run_forever()
        return
    dispatcher, close = built
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(worker.run_forever(), name="index-sync-loop")
            tasks.create_task(
                dispatcher.run_forever(lambda: worker.leading, interval=settings.webhook_poll_seconds),
                name="webhook-dispatcher",
            )
    finally:
        await close()
