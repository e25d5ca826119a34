"""The webhooks' typed errors (each with the ``code`` GraphQL reports)."""

from __future__ import annotations

from gateway.errors import GatewayError, UserInputError

__all__ = ["WebhookNotFound", "WebhookTargetRefused", "WebhooksUnavailable"]


class WebhookTargetRefused(UserInputError):
    """The URL is not one the gateway may call: not ``https``, or its host is (or resolves to) a
    loopback, private, link-local, multicast or reserved address."""

    code = "WEBHOOK_TARGET_REFUSED"


class WebhookNotFound(UserInputError):
    """No webhook of this principal has this id (another principal's is not found either)."""

    code = "WEBHOOK_NOT_FOUND"


class WebhooksUnavailable(GatewayError):
    """This gateway keeps no index (``INDEX=false``), so no sync finds events to deliver."""

    code = "WEBHOOKS_UNAVAILABLE"
