"""What the GraphQL layer asks of webhooks: register, list, remove and replay, each principal its own.

A principal sees and manages only the webhooks it registered (there is no administrator scope that
sees all).  Another principal's webhook answers as if it did not exist (``WEBHOOK_NOT_FOUND``), so an
id reveals nothing.  A new webhook starts at the outbox's newest position: it receives what happens
from now on, and ``replay`` reaches back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.core.feed import ContactEventLog, EventFilter
from gateway.core.principals import Principal
from gateway.errors import UserInputError

from .errors import WebhookNotFound
from .model import Webhook, WebhookStore, WebhookSummary
from .signing import new_secret
from .targets import TargetPolicy

__all__ = ["RegisteredWebhook", "WebhookRegistry"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RegisteredWebhook:
    webhook: Webhook
    secret: str
    """Shown once: the caller keeps it to verify signatures."""


class WebhookRegistry:
    def __init__(
        self,
        store: WebhookStore,
        log: ContactEventLog,
        policy: TargetPolicy,
        *,
        max_per_principal: int,
        max_url_length: int,
        dead_letters_shown: int,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._store = store
        self._log = log
        self._policy = policy
        self._max_per_principal = max_per_principal
        self._max_url_length = max_url_length
        self._dead_letters_shown = dead_letters_shown
        self._clock = clock

    async def register(self, principal: Principal, url: str, filter: EventFilter) -> RegisteredWebhook:
        if len(url) > self._max_url_length:
            raise UserInputError(f"a webhook URL may have at most {self._max_url_length} characters")
        await self._policy.check(url)
        owner = principal.scope_key
        if len(await self._store.summaries(owner, dead_letters=0)) >= self._max_per_principal:
            raise UserInputError(f"a principal may register at most {self._max_per_principal} webhooks")
        secret = new_secret()
        webhook = Webhook(
            id=uuid.uuid4().hex,
            owner=owner,
            owner_name=principal.name,
            url=url,
            secret=secret,
            filter=filter,
            created_at=self._clock(),
            cursor=await self._log.last_position(),
        )
        await self._store.create(webhook)
        return RegisteredWebhook(webhook, secret)

    async def list(self, principal: Principal) -> list[WebhookSummary]:
        return await self._store.summaries(principal.scope_key, dead_letters=self._dead_letters_shown)

    async def _own(self, principal: Principal, webhook_id: str) -> Webhook:
        webhook = await self._store.get(webhook_id)
        if webhook is None or webhook.owner != principal.scope_key:
            raise WebhookNotFound(f"no webhook {webhook_id}")
        return webhook

    async def summary(self, principal: Principal, webhook_id: str) -> WebhookSummary:
        await self._own(principal, webhook_id)
        for summary in await self.list(principal):
            if summary.webhook.id == webhook_id:
                return summary
        raise WebhookNotFound(f"no webhook {webhook_id}")

    async def remove(self, principal: Principal, webhook_id: str) -> None:
        await self._own(principal, webhook_id)
        await self._store.remove(webhook_id)

    async def replay(self, principal: Principal, webhook_id: str, from_position: int) -> WebhookSummary:
        """Deliver again every matching event after ``from_position`` (delivered and dead-lettered
        ones included: each is queued again, with the same ``webhook-id`` and a new retry window).
        A webhook disabled by a 410 answer is enabled again."""
        if from_position < 0:
            raise UserInputError("fromPosition may not be negative")
        await self._own(principal, webhook_id)
        await self._store.rewind(webhook_id, from_position)
        return await self.summary(principal, webhook_id)
