"""Per-request DataLoaders: every nested or by-key lookup is batched and de-duplicated through these.

One loader per (provider, entity).  Keys collected in one event-loop tick become one upstream batch:

- ``contacts`` (by :class:`ContactKey`): one adapter call per provider.  When the provider's listing
  costs no more requests than there are ids (GetResponse always: it cannot fetch a deleted contact by
  id), the loader reads the listing once and also primes ``emails`` with every record of the found
  addresses, so a later by-address question about them (a restore's suppression check) costs nothing.
- ``emails`` (per provider, by lower-cased address): one ``find_deleted_by_email`` per provider (one
  JSON-RPC batch at GetResponse).  :meth:`Loaders.load_by_email` asks every provider at once; a provider
  that fails is remembered in ``email_errors`` so the others still answer.
- ``getresponse_catalog`` (by ``("campaign", id)`` or ``("message", id)``): the campaigns and messages a
  page names, together in one JSON-RPC batch (one request) per tick.

Loaders are built per request (inside its event loop: aiodataloader binds to the loop it is created
in), so no cached answer outlives the request or crosses between callers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Sequence
from functools import partial
from typing import Any

from aiodataloader import DataLoader

from gateway.core.filters import DeletedContactFilter
from gateway.core.gathering import gather_settled
from gateway.core.model import ContactKey, DeletedContact, ListedContact, Provider
from gateway.core.services import Services
from gateway.errors import GatewayError

__all__ = ["Loaders"]

_EVERYTHING = DeletedContactFilter()


class Loaders:
    def __init__(self, services: Services) -> None:
        self._services = services
        # A GatewayError in a batch result rejects just that key's load() (aiodataloader semantics).
        self.contacts: DataLoader[ContactKey, Any] = DataLoader(self._load_contacts)
        self.emails: dict[Provider, DataLoader[str, Any]] = {
            provider: DataLoader(partial(self._load_emails, provider), get_cache_key=str.lower)
            for provider in services.ports
        }
        self.getresponse_catalog: DataLoader[tuple[str, str], Any] = DataLoader(self._load_catalog)
        self.email_errors: dict[Provider, GatewayError] = {}

    # -- by address, at every provider ---------------------------------------------------------

    async def load_by_email(
        self, emails: Sequence[str], providers: Collection[Provider] | None = None
    ) -> list[list[DeletedContact]]:
        """Every deleted record of each address at every configured provider, or at ``providers`` only.

        A provider that fails contributes nothing and is remembered in ``email_errors``.
        """
        # Every load() is issued before the first await, so all of them land in this tick's batches.
        pending = {
            provider: loader.load_many(list(emails))
            for provider, loader in self.emails.items()
            if providers is None or provider in providers
        }
        merged: list[list[DeletedContact]] = [[] for _ in emails]
        # Every future is awaited, even after one fails: a failure left in a future nobody awaits is
        # logged later as "exception was never retrieved".
        answers = await asyncio.gather(*pending.values(), return_exceptions=True)
        for provider, answer in zip(pending, answers, strict=True):
            if isinstance(answer, GatewayError):
                self.email_errors[provider] = answer
            elif isinstance(answer, BaseException):
                raise answer
            else:
                for index, records in enumerate(answer):
                    merged[index].extend(records)
        return merged

    async def _load_emails(self, provider: Provider, emails: list[str]) -> list[Any]:
        port = self._services.ports[provider]
        try:
            return list(await port.find_deleted_by_email(emails))
        except GatewayError as error:
            return [error] * len(emails)

    # -- by id ---------------------------------------------------------------------------------

    async def _load_contacts(self, keys: list[ContactKey]) -> list[DeletedContact | GatewayError | None]:
        by_provider: dict[Provider, list[str]] = defaultdict(list)
        for key in keys:
            if key.contact_id not in by_provider[key.provider]:
                by_provider[key.provider].append(key.contact_id)
        providers = list(by_provider)
        answers = await gather_settled(self._fetch_ids(p, by_provider[p]) for p in providers)
        found: dict[ContactKey, DeletedContact | GatewayError | None] = {}
        for provider, answer in zip(providers, answers, strict=True):
            for index, contact_id in enumerate(by_provider[provider]):
                key = ContactKey(provider, contact_id)
                found[key] = answer if isinstance(answer, GatewayError) else answer[index]
        return [found[key] for key in keys]

    async def _fetch_ids(
        self, provider: Provider, ids: list[str]
    ) -> list[DeletedContact | None] | GatewayError:
        port = self._services.ports.get(provider)
        if port is None:
            return [None] * len(ids)
        try:
            if len(ids) < port.listing_cost():
                return list(await port.get_deleted(ids))
            everything = await port.list_deleted(_EVERYTHING)
        except GatewayError as error:
            return error
        by_id = {listed.contact_id: listed for listed in everything}
        wanted = [by_id[i].contact if i in by_id else None for i in ids]
        self._prime_addresses(provider, everything, wanted)
        return wanted

    def _prime_addresses(
        self, provider: Provider, everything: list[ListedContact], found: list[DeletedContact | None]
    ) -> None:
        """The listing holds every record of each found address: remember them for by-address loads."""
        addresses = {contact.email.lower() for contact in found if contact is not None}
        records: dict[str, list[DeletedContact]] = {address: [] for address in addresses}
        for listed in everything:
            contact = listed.contact
            address = contact.email.lower()
            if address in records:
                records[address].append(contact)
        loader = self.emails[provider]
        for address, held in records.items():
            loader.prime(address, held)

    # -- GetResponse campaigns and messages ----------------------------------------------------

    async def _load_catalog(self, keys: list[tuple[str, str]]) -> list[Any]:
        adapter = self._services.getresponse
        if adapter is None:
            return [None] * len(keys)
        campaign_ids = [item for kind, item in keys if kind == "campaign"]
        message_ids = [item for kind, item in keys if kind == "message"]
        try:
            campaigns, messages = await adapter.catalog_by_ids(campaign_ids, message_ids)
        except GatewayError as error:
            return [error] * len(keys)
        found = {"campaign": campaigns, "message": messages}
        return [found[kind].get(item) for kind, item in keys]
