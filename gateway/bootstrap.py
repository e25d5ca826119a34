"""The composition root: settings in, wired services out (clients -> adapters -> ports, snapshot store)."""

from __future__ import annotations

import httpx

from .config import Settings
from .core.actions import MutationLimits
from .core.idempotency import IdempotencyStore, MemoryIdempotencyStore, RedisIdempotencyStore
from .core.model import Provider
from .core.ports import DeletedContactsPort
from .core.services import Services
from .core.shared_listings import SharedListings
from .core.snapshots import MemorySnapshotStore, RedisSnapshotStore, SnapshotStore
from .providers.constant_contact.adapter import ConstantContactAdapter
from .providers.constant_contact.auth import OAuthRefresh
from .providers.constant_contact.client import ConstantContactClient
from .providers.getresponse.adapter import GetResponseAdapter
from .providers.getresponse.client import GetResponseClient
from .providers.resilience import CircuitBreaker, RetryPolicy, Timeouts

__all__ = ["build_services"]


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


def _idempotency_store(settings: Settings) -> IdempotencyStore:
    if settings.redis_url:
        return RedisIdempotencyStore(settings.redis_url, ttl=settings.idempotency_ttl_seconds)
    return MemoryIdempotencyStore(ttl=settings.idempotency_ttl_seconds)


def build_services(
    settings: Settings,
    *,
    constant_contact_transport: httpx.AsyncBaseTransport | None = None,
    getresponse_transport: httpx.AsyncBaseTransport | None = None,
) -> Services:
    timeouts = Timeouts(
        connect=settings.provider_connect_timeout,
        read=settings.provider_read_timeout,
        total=settings.provider_total_timeout,
    )
    retry = RetryPolicy(max_attempts=settings.retry_max_attempts, budget=settings.retry_budget_seconds)

    def breaker(provider: str) -> CircuitBreaker:
        return CircuitBreaker(
            provider,
            failure_threshold=settings.breaker_failure_threshold,
            reset_timeout=settings.breaker_reset_seconds,
        )

    ports: dict[Provider, DeletedContactsPort] = {}
    constant_contact = getresponse = None
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
        cc_client = ConstantContactClient(
            base_url=settings.constant_contact_base_url,
            access_token=settings.constant_contact_access_token.get_secret_value(),
            refresh=refresh,
            transport=constant_contact_transport,
            timeouts=timeouts,
            retry=retry,
            breaker=breaker("constant_contact"),
            rate_per_second=settings.constant_contact_rate_per_second,
            daily_quota=settings.constant_contact_daily_quota,
        )
        constant_contact = ConstantContactAdapter(cc_client)
        ports[Provider.CONSTANT_CONTACT] = constant_contact
    if settings.getresponse_configured:
        assert settings.getresponse_api_url and settings.getresponse_api_key
        gr_client = GetResponseClient(
            api_url=settings.getresponse_api_url,
            api_key=settings.getresponse_api_key.get_secret_value(),
            transport=getresponse_transport,
            timeouts=timeouts,
            retry=retry,
            breaker=breaker("getresponse"),
            batching=settings.getresponse_batching,
        )
        getresponse = GetResponseAdapter(gr_client)
        ports[Provider.GETRESPONSE] = getresponse
    return Services(
        ports=ports,
        snapshots=_snapshot_store(settings),
        listings=SharedListings(ttl=settings.listing_cache_seconds),
        idempotency=_idempotency_store(settings),
        default_page_size=settings.page_size_default,
        max_page_size=settings.page_size_max,
        mutation_limits=MutationLimits(
            max_contacts=settings.max_contacts_per_mutation,
            max_idempotency_key_length=settings.max_idempotency_key_length,
        ),
        getresponse=getresponse,
        constant_contact=constant_contact,
    )
