"""Webhooks of the deletion feed in GraphQL: ``webhooks``, ``registerWebhook``, ``removeWebhook`` and
``replayWebhook`` (scope ``webhooks:manage``).

Types translate only: registering, listing, ownership and replay are ``gateway.webhooks.
WebhookRegistry``'s.  The secret appears once, in ``registerWebhook``'s payload; a ``Webhook`` never
shows it again.  ``WebhookQueries`` and ``WebhookMutations`` join the root types in ``schema.py``.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from gateway.core import model
from gateway.core.feed import EventFilter, EventKind
from gateway.core.principals import Scope
from gateway.webhooks import DeadLetter, DeliveryCounts, WebhookRegistry, WebhookSummary, WebhooksUnavailable

from .context import Info
from .permissions import requires
from .subscriptions import ContactEventKind, EventPosition

__all__ = [
    "ContactEventKind",
    "EventPosition",
    "RegisterWebhookInput",
    "RegisterWebhookPayload",
    "Webhook",
    "WebhookDeadLetter",
    "WebhookDeliveryCounts",
    "WebhookFilter",
    "WebhookFilterInput",
    "WebhookMutations",
    "WebhookQueries",
]


@strawberry.input(description="Which events a webhook receives; an empty or missing list means every value.")
class WebhookFilterInput:
    providers: list[model.Provider] | None = None
    kinds: list[EventKind] | None = None

    def to_core(self) -> EventFilter:
        return EventFilter(frozenset(self.providers or ()), frozenset(self.kinds or ()))


@strawberry.input
class RegisterWebhookInput:
    url: str = strawberry.field(
        description="Where deliveries are POSTed: https, to a host with public addresses only."
    )
    filter: WebhookFilterInput | None = None


@strawberry.type(description="Which events a webhook receives (an empty list: every value).")
class WebhookFilter:
    providers: list[model.Provider]
    kinds: list[EventKind]


@strawberry.type
class WebhookDeliveryCounts:
    pending: int = strawberry.field(description="Not delivered yet (first attempt or retries due).")
    delivered: int
    dead: int = strawberry.field(description="Given up after the retry window: see deadLetters.")


@strawberry.type(description="A delivery given up after its retry window (replay it with replayWebhook).")
class WebhookDeadLetter:
    event_id: str = strawberry.field(description="The event's id: the webhook-id header of every attempt.")
    position: EventPosition
    attempts: int
    last_status: int | None = strawberry.field(description="The receiver's last HTTP status, if it answered.")
    last_error: str | None
    first_attempt_at: datetime

    @classmethod
    def from_core(cls, letter: DeadLetter) -> WebhookDeadLetter:
        return cls(
            event_id=letter.event_id,
            position=EventPosition(letter.position),
            attempts=letter.attempts,
            last_status=letter.last_status,
            last_error=letter.last_error,
            first_attempt_at=letter.first_attempt_at,
        )


@strawberry.type(
    description="A signed webhook of the deletion feed (its secret is shown only at registration)."
)
class Webhook:
    id: strawberry.ID
    url: str
    filter: WebhookFilter
    created_at: datetime
    cursor: EventPosition = strawberry.field(
        description="The position of the last event queued for delivery."
    )
    enabled: bool = strawberry.field(description="False once the receiver answered 410 Gone.")
    disabled_reason: str | None
    deliveries: WebhookDeliveryCounts
    dead_letters: list[WebhookDeadLetter] = strawberry.field(description="The newest dead letters first.")

    @classmethod
    def from_core(cls, summary: WebhookSummary) -> Webhook:
        webhook = summary.webhook
        counts = summary.counts
        return cls(
            id=strawberry.ID(webhook.id),
            url=webhook.url,
            filter=WebhookFilter(
                providers=sorted(webhook.filter.providers, key=lambda p: p.value),
                kinds=sorted(webhook.filter.kinds, key=lambda k: k.value),
            ),
            created_at=webhook.created_at,
            cursor=EventPosition(webhook.cursor),
            enabled=webhook.enabled,
            disabled_reason=webhook.disabled_reason,
            deliveries=WebhookDeliveryCounts(
                pending=counts.pending, delivered=counts.delivered, dead=counts.dead
            ),
            dead_letters=[WebhookDeadLetter.from_core(letter) for letter in summary.dead_letters],
        )


@strawberry.type
class RegisterWebhookPayload:
    webhook: Webhook
    secret: str = strawberry.field(
        description="whsec_...: the key that signs every delivery (Standard Webhooks). Shown only now."
    )


def _registry(info: Info) -> WebhookRegistry:
    registry = info.context.services.webhooks
    if registry is None:
        raise WebhooksUnavailable("webhooks need the index (INDEX=true), whose sync finds the events")
    return registry


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="The caller's webhooks, with their delivery counts and dead letters.",
        extensions=requires(Scope.WEBHOOKS_MANAGE),
    )
    async def webhooks(self, info: Info) -> list[Webhook] | None:
        summaries = await _registry(info).list(info.context.principal)
        return [Webhook.from_core(summary) for summary in summaries]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Register a webhook: every event after now that matches the filter is POSTed to the "
        "URL, signed (Standard Webhooks), retried with backoff for the retry window.",
        extensions=requires(Scope.WEBHOOKS_MANAGE),
    )
    async def register_webhook(
        self, info: Info, input: RegisterWebhookInput
    ) -> RegisterWebhookPayload | None:
        filter = input.filter.to_core() if input.filter is not None else EventFilter()
        registered = await _registry(info).register(info.context.principal, input.url, filter)
        summary = WebhookSummary(registered.webhook, counts=DeliveryCounts(), dead_letters=[])
        return RegisterWebhookPayload(webhook=Webhook.from_core(summary), secret=registered.secret)

    @strawberry.mutation(
        description="Remove one of the caller's webhooks and its deliveries; its id.",
        extensions=requires(Scope.WEBHOOKS_MANAGE),
    )
    async def remove_webhook(self, info: Info, id: strawberry.ID) -> strawberry.ID | None:
        await _registry(info).remove(info.context.principal, str(id))
        return id

    @strawberry.mutation(
        description="Deliver again every matching event after a position (delivered and dead-lettered "
        "ones too, with their ids unchanged); a webhook disabled by a 410 answer is enabled again.",
        extensions=requires(Scope.WEBHOOKS_MANAGE),
    )
    async def replay_webhook(
        self,
        info: Info,
        id: strawberry.ID,
        from_position: EventPosition,
    ) -> Webhook | None:
        summary = await _registry(info).replay(info.context.principal, str(id), int(from_position))
        return Webhook.from_core(summary)
