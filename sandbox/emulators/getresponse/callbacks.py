"""Account callbacks: GetResponse calling the account's listener when something happens.

Delivery follows the Callback README (v1.2.2): an HTTP request to the configured ``uri`` with the
parameters appended to its query string (the verb is not documented; GET, as the sample URL
suggests), a 4 second timeout, and no retry: a callback that fails is lost.  It is fire-and-forget:
the API call that caused it has already been answered and never learns the outcome.

The emulator sends ``unsubscribe`` (from ``POST /_emulator/unsubscribe``, a simulated click on an
unsubscribe link; other removals never call back, as documented) and ``subscribe`` (when a queued
``add_contact`` is confirmed).  Every attempt is kept in ``deliveries`` (served at
``GET /_emulator/callbacks``) so tests can see what was sent and how it ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from emulators.control import Clock

from .model import Account, Campaign, Contact, format_timestamp

__all__ = ["CallbackDelivery", "CallbackDispatcher", "subscribe_params", "unsubscribe_params"]

logger = logging.getLogger(__name__)
_KEPT_DELIVERIES = 1000


@dataclass(frozen=True, slots=True)
class CallbackDelivery:
    action: str
    url: str
    outcome: str  # "delivered" or "failed"
    status_code: int | None
    error: str | None
    attempted_at: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def unsubscribe_params(
    account: Account, campaign: Campaign, contact_id: str, name: str, email: str
) -> dict[str, str]:
    params = _common(account, campaign, "unsubscribe", contact_id)
    if name:
        params["contact_name"] = name
    params["contact_email"] = email
    return params


def subscribe_params(account: Account, campaign: Campaign, contact: Contact) -> dict[str, str]:
    params = _common(account, campaign, "subscribe", contact.contact_id)
    if contact.name:
        params["contact_name"] = contact.name
    params["contact_email"] = contact.email
    if contact.ip:
        params["contact_ip"] = contact.ip
    params["contact_origin"] = contact.origin
    return params


def _common(account: Account, campaign: Campaign, action: str, contact_id: str) -> dict[str, str]:
    return {
        "action": action,
        "ACCOUNT_ID": account.account_id,
        "account_login": account.login,
        "CAMPAIGN_ID": campaign.campaign_id,
        "campaign_name": campaign.name,
        "CONTACT_ID": contact_id,
    }


class CallbackDispatcher:
    """Sends callbacks in the background of the running event loop, one attempt each."""

    def __init__(self, clock: Clock, *, timeout_seconds: float = 4.0) -> None:
        self.clock = clock
        self.timeout_seconds = timeout_seconds
        self.deliveries: deque[CallbackDelivery] = deque(maxlen=_KEPT_DELIVERIES)
        self._in_flight: set[asyncio.Task[None]] = set()

    def send(self, uri: str, params: dict[str, str]) -> None:
        url = str(httpx.URL(uri).copy_merge_params(params))
        task = asyncio.get_running_loop().create_task(self._deliver(params["action"], url))
        self._in_flight.add(task)  # the loop keeps only weak references to tasks
        task.add_done_callback(self._in_flight.discard)

    async def drain(self) -> None:
        """Wait for every callback in flight (tests and shutdown; the API never waits)."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)

    def reset(self) -> None:
        self.deliveries.clear()

    async def _deliver(self, action: str, url: str) -> None:
        attempted_at = format_timestamp(self.clock.now())
        try:
            async with asyncio.timeout(self.timeout_seconds):
                async with httpx.AsyncClient(timeout=self.timeout_seconds) as client:
                    response = await client.get(url)
        # A callback that is not received is lost: whatever went wrong is recorded, never raised.
        except (httpx.HTTPError, OSError, TimeoutError) as exc:
            logger.info("%s callback not delivered: %s", action, type(exc).__name__)
            self.deliveries.append(
                CallbackDelivery(action, url, "failed", None, type(exc).__name__, attempted_at)
            )
            return
        self.deliveries.append(
            CallbackDelivery(action, url, "delivered", response.status_code, None, attempted_at)
        )
