"""The deletion feed's delivery to live subscribers: one outbox poller per process, fanned out.

Imports core only (``tests/test_layers.py``): the GraphQL subscription (``gateway.schema.
subscriptions``) and the GetResponse callback endpoint (``gateway.http.callbacks``) use it.
"""

from __future__ import annotations

from .callback import CallbackRefused, UnsubscribeCallback, unsubscribe_event
from .errors import FeedClosed, FeedPositionExpired, SubscriberTooSlow, SubscriptionLimitExceeded
from .hub import FeedHub

__all__ = [
    "CallbackRefused",
    "FeedClosed",
    "FeedHub",
    "FeedPositionExpired",
    "SubscriberTooSlow",
    "SubscriptionLimitExceeded",
    "UnsubscribeCallback",
    "unsubscribe_event",
]
