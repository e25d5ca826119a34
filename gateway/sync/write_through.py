"""The gateway's own deletes and restores, written into the index before the mutation answers.

After a mutation wrote contacts at a provider, that provider's changes since the moment before the
writes are read (a delta of one or two requests) and applied: the index then holds exactly what the
provider recorded (the deletion's real time and reason, a restore's revival), not a guess of it.  A
failure here fails nothing: the mutation happened, and the next sync reads the same changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from gateway.core.deleted_pages import IndexAccess
from gateway.core.feed import EventSource
from gateway.core.index import SyncSource
from gateway.core.model import Provider
from gateway.errors import GatewayError

__all__ = ["WriteThrough"]

logger = logging.getLogger("gateway.sync")


class WriteThrough:
    """``margin`` is subtracted from the moment before the writes: the provider's clock and ours differ."""

    def __init__(self, sources: Mapping[Provider, SyncSource], access: IndexAccess, *, margin: float) -> None:
        self._sources = sources
        self._access = access
        self._margin = timedelta(seconds=margin)

    async def __call__(self, providers: set[Provider], since: datetime) -> None:
        await asyncio.gather(
            *(self._refresh(p, since - self._margin) for p in providers if p in self._sources)
        )
        self._access.forget_states()

    async def _refresh(self, provider: Provider, since: datetime) -> None:
        try:
            batch = await self._sources[provider].changes(since)
            await self._access.index.apply(provider, batch, events=EventSource.GATEWAY)
        except GatewayError as error:
            logger.warning(
                "index write-through at %s failed (%s); the next sync reads the same changes",
                provider.value,
                error.code,
            )
