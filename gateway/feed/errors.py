"""Typed errors of the feed's subscriptions (each with its ``code``, shown in GraphQL errors)."""

from __future__ import annotations

from gateway.errors import GatewayError

__all__ = ["FeedClosed", "FeedPositionExpired", "SubscriberTooSlow", "SubscriptionLimitExceeded"]


class SubscriptionLimitExceeded(GatewayError):
    """The principal already holds as many live subscriptions on this replica as it may."""

    code = "SUBSCRIPTION_LIMIT_EXCEEDED"


class SubscriberTooSlow(GatewayError):
    """The subscriber fell behind by more events than its buffer holds; it was closed so that no
    replica keeps an unbounded backlog.  Subscribe again with ``after`` = the last position seen."""

    code = "SUBSCRIBER_TOO_SLOW"


class FeedClosed(GatewayError):
    """The replica is shutting down; resume on another with ``after``."""

    code = "FEED_CLOSED"


class FeedPositionExpired(GatewayError):
    """``after`` is older than the oldest event kept (``FEED_RETENTION_DAYS``): the events between were
    pruned, so resuming there would miss them without a word."""

    code = "FEED_POSITION_EXPIRED"
