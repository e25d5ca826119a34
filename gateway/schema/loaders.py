"""Per-request DataLoaders: every nested or by-key lookup is batched and de-duplicated through these.

Deleted contacts by id and by address come from :class:`gateway.core.lookups.ContactLookups`; this
adds what only the GraphQL types ask for:

- ``getresponse_catalog`` (by ``("campaign", id)`` or ``("message", id)``): the campaigns and messages a
  page names, together in one JSON-RPC batch (one request) per tick.

Loaders are built per request (inside its event loop: aiodataloader binds to the loop it is created
in), so no cached answer outlives the request or crosses between callers.
"""

from __future__ import annotations

from aiodataloader import DataLoader

from gateway.core.lookups import ContactLookups, batch_of
from gateway.core.ports import CampaignRecord, MessageRecord
from gateway.core.services import Services
from gateway.errors import GatewayError

__all__ = ["Loaders"]

CatalogRecord = CampaignRecord | MessageRecord


class Loaders(ContactLookups):
    def __init__(self, services: Services) -> None:
        super().__init__(services.ports, watch=services.batch_watch, index=services.index)
        self._services = services
        self.getresponse_catalog: DataLoader[tuple[str, str], CatalogRecord | None] = DataLoader(
            batch_of(self._load_catalog, name="getresponse_catalog", watch=services.batch_watch)
        )

    async def _load_catalog(self, keys: list[tuple[str, str]]) -> list[CatalogRecord | GatewayError | None]:
        adapter = self._services.getresponse
        if adapter is None:
            return [None] * len(keys)
        campaign_ids = [item for kind, item in keys if kind == "campaign"]
        message_ids = [item for kind, item in keys if kind == "message"]
        try:
            campaigns, messages = await adapter.catalog_by_ids(campaign_ids, message_ids)
        except GatewayError as error:
            return [error] * len(keys)
        answers: list[CatalogRecord | GatewayError | None] = []
        for kind, item in keys:
            answers.append(campaigns.get(item) if kind == "campaign" else messages.get(item))
        return answers
