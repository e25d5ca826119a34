"""Signed webhook deliveries of the deletion feed (issue 17).

A principal with the ``webhooks:manage`` scope registers an ``https`` URL and a filter; the sync
leader's dispatcher reads the outbox (``gateway.core.feed.ContactEventLog``) after each webhook's
cursor, queues one delivery per matching event and POSTs it, signed as the Standard Webhooks
specification says, retrying with backoff until the retry window closes (then the delivery is
dead-lettered, visible in GraphQL, and can be replayed).

- :mod:`~gateway.webhooks.model`: webhooks, deliveries, the store port
- :mod:`~gateway.webhooks.signing`: secrets and signatures
- :mod:`~gateway.webhooks.targets`: which URLs may be called (checked at registration and per delivery)
- :mod:`~gateway.webhooks.payload`: an event's JSON body
- :mod:`~gateway.webhooks.backoff`: when a failed delivery is tried again, or given up
- :mod:`~gateway.webhooks.sender`: one POST, to the address the policy checked
- :mod:`~gateway.webhooks.dispatcher`: the loop of the sync leader
- :mod:`~gateway.webhooks.registry`: what GraphQL calls (register, list, remove, replay)

This package drives core's ports only; the store implements :class:`WebhookStore`.
"""

from .backoff import RetryPolicy
from .dispatcher import DispatchReport, WebhookDispatcher
from .errors import WebhookNotFound, WebhooksUnavailable, WebhookTargetRefused
from .model import (
    DeadLetter,
    DeliveryCounts,
    DeliveryState,
    DueDelivery,
    NewDelivery,
    Webhook,
    WebhookStore,
    WebhookSummary,
)
from .registry import RegisteredWebhook, WebhookRegistry
from .sender import DeliveryAttempt, HttpSender, Sender
from .signing import new_secret, sign, signature_headers
from .targets import TargetPolicy

__all__ = [
    "DeadLetter",
    "DeliveryAttempt",
    "DeliveryCounts",
    "DeliveryState",
    "DispatchReport",
    "DueDelivery",
    "HttpSender",
    "NewDelivery",
    "RegisteredWebhook",
    "RetryPolicy",
    "Sender",
    "TargetPolicy",
    "Webhook",
    "WebhookDispatcher",
    "WebhookNotFound",
    "WebhookRegistry",
    "WebhookStore",
    "WebhookSummary",
    "WebhookTargetRefused",
    "WebhooksUnavailable",
    "new_secret",
    "sign",
    "signature_headers",
]
