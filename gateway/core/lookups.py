"""Deleted contacts by id and by address, batched and de-duplicated per request (DataLoaders).

Keys collected in one event-loop tick become one upstream batch per provider:

- ``contacts`` (by :class:`ContactKey`): one adapter call per provider.  When the provider's listing
  costs no more requests than there are ids (GetResponse always: it cannot fetch a deleted contact by
  id), the loader reads the listing once and also primes ``emails`` with every record of the found
  addresses, so a later by-address question about them (a restore's suppression check) costs nothing.
- ``emails`` (per provider, by lower-cased address): one ``find_deleted_by_email`` per provider (one
  JSON-RPC batch at GetResponse).  :meth:`ContactLookups.load_by_email` asks every provider at once; a
  provider that fails is remembered in ``email_errors`` so the others still answer.

With the synced index (``index``), a provider whose index is built answers both from the index: no
upstream request at all.  Mutations resolve their targets without it (they act on what the provider
holds now).

Build one per request (or per mutation) inside its event loop: aiodataloader binds to the loop it is
created in, and no cached answer should outlive the request or cross between callers.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Collection, Coroutine, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader

from gateway.errors import GatewayError

from .batch_watch import BatchWatch
from .deleted_pages import IndexAccess
from .filters import DeletedContactFilter
from .gathering import gather_settled
from .index import DeletedContactIndex
from .model import ContactKey, DeletedContact, ListedContact, Provider
from .ports import DeletedContactsPort

__all__ = ["ContactLookups", "batch_of"]

_EVERYTHING = DeletedContactFilter()

ContactAnswer = DeletedContact | GatewayError | None
EmailAnswer = list[DeletedContact] | GatewayError
K = TypeVar("K")
V = TypeVar("V")


def batch_of(
    load: Callable[[list[K]], Coroutine[Any, Any, Sequence[V | GatewayError]]],
    *,
    name: str = "batch",
    watch: BatchWatch | None = None,
) -> Callable[[list[K]], Coroutine[Any, Any, list[V]]]:
    """``load`` as aiodataloader's stubs type a batch function.  A GatewayError in a batch result
    rejects just that key's ``load()`` (aiodataloader semantics), which the stubs cannot express.

    With ``watch`` each batch runs inside ``watch.batch_span(name, len(keys))``; without, ``load``
    is returned as it is (nothing added per batch)."""
    if watch is None:
        return cast(Callable[[list[K]], Coroutine[Any, Any, list[V]]], load)

    async def watched(keys: list[K]) -> Sequence[V | GatewayError]:
        with watch.batch_span(name, len(keys)):
            return await load(keys)

    return cast(Callable[[list[K]], Coroutine[Any, Any, list[V]]], watched)


class ContactLookups:
    """``watch`` (optional) sees every batch of these loaders (tracing)."""

    def __init__(
        self,
        ports: Mapping[Provider, DeletedContactsPort],
        *,
        watch: BatchWatch | None = None,
        index: IndexAccess | None = None,
    ) -> None:
        self._ports = ports
        self._index = index
        self.contacts: DataLoader[ContactKey, DeletedContact | None] = DataLoader(
            batch_of(self._load_contacts, name="contacts", watch=watch)
        )
        self.emails: dict[Provider, DataLoader[str, list[DeletedContact]]] = {
            provider: DataLoader(
                batch_of(partial(self._load_emails, provider), name=f"emails.{provider.value}", watch=watch),
                get_cache_key=str.lower,
            )
            for provider in ports
        }
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

    async def _indexed(self, provider: Provider) -> DeletedContactIndex | None:
        """The index, when it holds ``provider``'s deleted contacts (its backfill is done)."""
        if self._index is None:
            return None
        state = (await self._index.states()).get(provider)
        return self._index.index if state is not None and state.ready else None

    async def _load_emails(self, provider: Provider, emails: list[str]) -> list[EmailAnswer]:
        port = self._ports[provider]
        try:
            index = await self._indexed(provider)
            if index is not None:
                rows = await index.by_email(emails)
                return [
                    [port.from_snapshot_entry(row.entry) for row in found if row.provider is provider]
                    for found in rows
                ]
            return list(await port.find_deleted_by_email(emails))
        except GatewayError as error:
            return [error] * len(emails)

    # -- by id ---------------------------------------------------------------------------------

    async def _load_contacts(self, keys: list[ContactKey]) -> list[ContactAnswer]:
        by_provider: dict[Provider, list[str]] = defaultdict(list)
        for key in keys:
            if key.contact_id not in by_provider[key.provider]:
                by_provider[key.provider].append(key.contact_id)
        providers = list(by_provider)
        answers = await gather_settled(self._fetch_ids(p, by_provider[p]) for p in providers)
        found: dict[ContactKey, ContactAnswer] = {}
        for provider, answer in zip(providers, answers, strict=True):
            for index, contact_id in enumerate(by_provider[provider]):
                key = ContactKey(provider, contact_id)
                found[key] = answer if isinstance(answer, GatewayError) else answer[index]
        return [found[key] for key in keys]

    async def _fetch_ids(
        self, provider: Provider, ids: list[str]
    ) -> list[DeletedContact | None] | GatewayError:
        port = self._ports.get(provider)
        if port is None:
            return [None] * len(ids)
        try:
            index = await self._indexed(provider)
            if index is not None:
                rows = await index.get([ContactKey(provider, contact_id) for contact_id in ids])
                return [port.from_snapshot_entry(row.entry) if row is not None else None for row in rows]
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
