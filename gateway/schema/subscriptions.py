"""The ``Subscription`` root: ``contactEvents``, the deletion feed, live and resumable.

Types translate only: the stream itself is ``gateway.feed.FeedHub``'s (one outbox poller per process,
fanned out), reached through the subscription's context (:class:`FeedContext`, built by the HTTP
layer for each WebSocket connection or SSE request).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, MutableMapping
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NewType

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from gateway.core import model
from gateway.core.feed import ContactEvent as CoreEvent
from gateway.core.feed import EventFilter, EventKind, EventSource
from gateway.core.principals import Caller, Scope
from gateway.core.services import Services
from gateway.errors import Forbidden, GatewayError, UserInputError
from gateway.feed import FeedHub

from .context import GatewayContext
from .loaders import Loaders
from .types import DeletedContact, contact_type

__all__ = [
    "SCALARS",
    "ContactEvent",
    "ContactEventFilterInput",
    "ContactEventKind",
    "ContactEventSource",
    "EventPosition",
    "FeedContext",
    "Subscription",
]

ContactEventKind = strawberry.enum(
    EventKind,
    name="ContactEventKind",
    description="DELETED: newly deleted (or deleted again after a restore). RESTORED: active again.",
)
ContactEventSource = strawberry.enum(
    EventSource,
    name="ContactEventSource",
    description="SYNC: the index's sync found it. GATEWAY: the gateway's own mutation. CALLBACK: "
    "GetResponse called back (an unsubscribe link was clicked), before any sync.",
)


def _parse_position(value: object) -> int:
    # Accepted as a decimal string or an Int: positions outgrow 32 bits, so they are sent as strings.
    # A typed error (not ValueError): a bad literal is the caller's mistake, answered BAD_USER_INPUT.
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise UserInputError("a position is a decimal string")
    try:
        position = int(value)
    except ValueError:
        raise UserInputError("a position is a decimal string") from None
    if position < 0:
        raise UserInputError("a position is not negative")
    return position


EventPosition = NewType("EventPosition", int)
"""An event's position in the schema: a decimal string (``SCALARS`` maps it; positions outgrow Int)."""

SCALARS: dict[object, ScalarDefinition] = {
    EventPosition: strawberry.scalar(
        name="EventPosition",
        description="An event's place in the feed, increasing with every event (a decimal string). "
        "Resume a subscription with after: the last position received.",
        serialize=str,
        parse_value=_parse_position,
    )
}
"""The schema's scalar map entries of this module (``StrawberryConfig.scalar_map``)."""


@strawberry.input(description="Which events to receive; an empty or missing list means every value.")
class ContactEventFilterInput:
    providers: list[model.Provider] | None = None
    kinds: list[EventKind] | None = None

    def to_core(self) -> EventFilter:
        return EventFilter(frozenset(self.providers or ()), frozenset(self.kinds or ()))


@strawberry.type(description="A contact deleted or restored at a provider, as the feed recorded it.")
class ContactEvent:
    position: EventPosition
    event_id: str = strawberry.field(description="Unique per event (a webhook's idempotency id).")
    kind: ContactEventKind  # type: ignore[valid-type]  # strawberry.enum's result, as above
    provider: model.Provider
    contact_id: str
    email: str
    occurred_at: datetime = strawberry.field(
        description="When it happened at the provider (a day's deletion: midnight UTC), else when found."
    )
    recorded_at: datetime | None
    source: ContactEventSource  # type: ignore[valid-type]
    reason: str | None
    campaign_id: str | None
    contact: DeletedContact | None = strawberry.field(
        description="The deleted contact (DELETED events the sync found); null for RESTORED and "
        "callback events, whose record the provider has not listed yet."
    )

    @classmethod
    def from_core(cls, event: CoreEvent, contact: DeletedContact | None) -> ContactEvent:
        return cls(
            position=EventPosition(event.position),
            event_id=event.event_id,
            kind=event.kind,
            provider=event.provider,
            contact_id=event.contact_id,
            email=event.email,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            source=event.source,
            reason=event.reason,
            campaign_id=event.campaign_id,
            contact=contact,
        )


@dataclass
class FeedContext(GatewayContext):
    """A subscription's context: the request's, plus the process's feed."""

    feed: FeedHub | None = None
    connection_params: dict[str, Any] = field(default_factory=dict)
    """The ``connection_init`` payload of a WebSocket (Strawberry's handler sets it)."""
    upgrade_scope: MutableMapping[str, Any] | None = None
    """A WebSocket's ASGI scope (its upgrade request's headers: a credential sent there)."""
    connection_owner: str | None = None
    """The principal a WebSocket connection is counted against, once it was accepted."""

    @classmethod
    def for_caller(cls, services: Services, caller: Caller, feed: FeedHub | None) -> FeedContext:
        return cls(caller=caller, services=services, loaders=Loaders(services), feed=feed)


def _contact(context: GatewayContext, event: CoreEvent) -> DeletedContact | None:
    port = context.services.ports.get(event.provider)
    if event.entry is None or port is None:
        return None
    return contact_type(port.from_snapshot_entry(event.entry))


def _error(error: GatewayError) -> GraphQLError:
    # Raised from the stream, an error ends the subscription with it; shaped here, with its code,
    # since a stream's errors do not pass through GatewaySchema.execute.
    return GraphQLError(error.message, original_error=error, extensions={"code": error.code})


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Contacts deleted or restored at either provider, as they are found (needs "
        "contacts:read). after: resume after this position (no event missed, none twice); without "
        "it, events from now on."
    )
    async def contact_events(
        self,
        info: strawberry.Info[GatewayContext, None],
        filter: ContactEventFilterInput | None = None,
        after: EventPosition | None = None,
    ) -> AsyncGenerator[ContactEvent, None]:
        context = info.context
        feed = context.feed if isinstance(context, FeedContext) else None
        try:
            if not context.principal.allows(Scope.CONTACTS_READ):
                raise Forbidden(Scope.CONTACTS_READ.value, "contactEvents")
            if feed is None:
                raise UserInputError("Subscriptions are served over graphql-transport-ws or SSE.")
            stream = feed.events(
                context.principal.scope_key,
                after=after,
                event_filter=filter.to_core() if filter is not None else None,
            )
            async with aclosing(stream):  # a client gone closes the hub's stream (and its registration)
                async for event in stream:
                    yield ContactEvent.from_core(event, _contact(context, event))
        except Forbidden as error:
            raise GraphQLError(
                error.message, original_error=error, extensions={"code": error.code, "scope": error.scope}
            ) from error
        except GatewayError as error:
            raise _error(error) from error
