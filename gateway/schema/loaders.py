"""Per-request DataLoaders: every nested or by-key lookup is batched and de-duplicated through these.

One loader per (provider, entity).  Keys collected in one event-loop tick become one upstream batch:
contact keys are grouped per provider (one adapter call each), emails go to every provider at once
(GetResponse answers them in one JSON-RPC batch), campaigns and messages in one request each.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from aiodataloader import DataLoader

from gateway.core.model import ContactKey, DeletedContact, Provider
from gateway.core.services import Services
from gateway.errors import GatewayError

__all__ = ["Loaders"]


class Loaders:
    def __init__(self, services: Services) -> None:
        self._services = services
        # A GatewayError in a batch result rejects just that key's load() (aiodataloader semantics).
        self.contacts: DataLoader[ContactKey, Any] = DataLoader(self._load_contacts)
        self.by_email: DataLoader[str, list[DeletedContact]] = DataLoader(
            self._load_by_email, get_cache_key=str.lower
        )
        self.getresponse_campaigns: DataLoader[str, Any] = DataLoader(self._load_campaigns)
        self.getresponse_messages: DataLoader[str, Any] = DataLoader(self._load_messages)
        self.email_errors: dict[Provider, GatewayError] = {}

    async def _load_contacts(self, keys: list[ContactKey]) -> list[DeletedContact | GatewayError | None]:
        by_provider: dict[Provider, list[str]] = defaultdict(list)
        for key in keys:
            by_provider[key.provider].append(key.contact_id)
        providers = list(by_provider)

        async def fetch(provider: Provider) -> list[DeletedContact | None] | GatewayError:
            port = self._services.ports.get(provider)
            if port is None:
                return [None] * len(by_provider[provider])
            try:
                return await port.get_deleted(list(dict.fromkeys(by_provider[provider])))
            except GatewayError as error:
                return error

        answers = await asyncio.gather(*(fetch(p) for p in providers))
        found: dict[ContactKey, DeletedContact | GatewayError | None] = {}
        for provider, answer in zip(providers, answers, strict=True):
            ids = list(dict.fromkeys(by_provider[provider]))
            for index, contact_id in enumerate(ids):
                key = ContactKey(provider, contact_id)
                found[key] = answer if isinstance(answer, GatewayError) else answer[index]
        return [found[key] for key in keys]

    async def _load_by_email(self, emails: list[str]) -> list[list[DeletedContact]]:
        """Every deleted record of each address at every configured provider.

        A provider that fails is remembered in ``email_errors`` (reported next to the data) and
        contributes nothing, so one provider's outage does not hide the other's answer.
        """
        ports = list(self._services.ports.values())
        answers = await asyncio.gather(
            *(port.find_deleted_by_email(list(emails)) for port in ports), return_exceptions=True
        )
        merged: list[list[DeletedContact]] = [[] for _ in emails]
        for port, answer in zip(ports, answers, strict=True):
            if isinstance(answer, GatewayError):
                self.email_errors[port.provider] = answer
                continue
            if isinstance(answer, BaseException):
                raise answer
            for index, contacts in enumerate(answer):
                merged[index].extend(contacts)
        return merged

    async def _load_campaigns(self, ids: list[str]) -> list[Any]:
        adapter = self._services.getresponse
        if adapter is None:
            return [None] * len(ids)
        campaigns = await adapter.campaigns_by_ids(list(ids))
        return [campaigns.get(campaign_id) for campaign_id in ids]

    async def _load_messages(self, ids: list[str]) -> list[Any]:
        adapter = self._services.getresponse
        if adapter is None:
            return [None] * len(ids)
        messages = await adapter.messages_by_ids(list(ids))
        return [messages.get(message_id) for message_id in ids]
