"""GetResponse's unsubscribe callback turned into a feed event, at once.

GetResponse 1.5 calls the account's callback URL (``set_account_callbacks``) with a GET whose query
string says what happened (``action=unsubscribe``, ``CONTACT_ID``, ``contact_email``, ``CAMPAIGN_ID``,
...).  It cannot sign a request, so the URL the gateway registers carries a shared secret; a request
without the right one is refused.  A good ``unsubscribe`` becomes a ``DELETED`` event (source
``callback``, reason ``unsubscribe``) appended to the outbox; the sync that later finds the same
deletion writes no second event (the outbox drops the repeat).  Other actions are acknowledged and
ignored: GetResponse does not retry, so answering them with an error would only make noise.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

from gateway.core.feed import ContactEvent, ContactEventLog, EventKind, EventSource
from gateway.core.model import DeletionReason, Provider
from gateway.errors import GatewayError, UserInputError

__all__ = ["CallbackRefused", "UnsubscribeCallback", "unsubscribe_event"]

logger = logging.getLogger("gateway.feed.callback")


class CallbackRefused(GatewayError):
    """The callback did not carry the shared secret (missing or wrong), or none is configured."""

    code = "CALLBACK_REFUSED"


def unsubscribe_event(params: Mapping[str, str], *, now: datetime | None = None) -> ContactEvent:
    """The ``DELETED`` event of an ``unsubscribe`` callback's parameters."""
    contact_id = params.get("CONTACT_ID", "").strip()
    email = params.get("contact_email", "").strip()
    if not contact_id or not email:
        raise UserInputError("An unsubscribe callback needs CONTACT_ID and contact_email.")
    return ContactEvent(
        kind=EventKind.DELETED,
        provider=Provider.GETRESPONSE,
        contact_id=contact_id,
        email=email,
        occurred_at=now or datetime.now(UTC),
        source=EventSource.CALLBACK,
        reason=DeletionReason.UNSUBSCRIBE.value,
        campaign_id=params.get("CAMPAIGN_ID") or None,
    )


class UnsubscribeCallback:
    """Checks a callback's secret and appends its event to ``log``.

    ``secret`` None: callbacks are off, every call is refused.
    """

    def __init__(self, log: ContactEventLog, secret: str | None) -> None:
        self._log = log
        self._secret = secret.encode() if secret else None

    def check(self, given: str | None) -> None:
        """Raises :class:`CallbackRefused` unless ``given`` is the secret (compared in constant time)."""
        if self._secret is None:
            raise CallbackRefused("GetResponse callbacks are not configured on this gateway.")
        if given is None or not hmac.compare_digest(given.encode(), self._secret):
            raise CallbackRefused("The callback's secret is missing or wrong.")

    async def receive(self, given_secret: str | None, params: Mapping[str, str]) -> ContactEvent | None:
        """The event written (None: an action other than unsubscribe, or a repeat the outbox dropped)."""
        self.check(given_secret)
        action = params.get("action", "")
        if action != "unsubscribe":
            logger.info("GetResponse callback ignored action=%s", action[:32])
            return None
        written = await self._log.append([unsubscribe_event(params)])
        return written[0] if written else None
