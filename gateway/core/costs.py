"""What a request may cost upstream: the price list the GraphQL layer adds up before running anything.

Prices are in upstream requests, counted at worst:

- a first page of ``deletedContacts`` reads a provider's whole deleted listing: ``listing`` per
  provider asked (Constant Contact pages by 500, so a large account costs many requests);
- a later page reads the first page's snapshot: ``page``; so does any page read from the synced index
  (``indexed``: the gateway keeps one), unless it asks for ``consistency: LIVE``.  While the index is
  still being built a first page is answered live but priced as an index page: the price list is
  fixed before anything runs, and a backfill happens once;
- a lookup by id, or by address at each provider: ``lookup`` each;
- a mutation: ``mutation_contact`` per contact named;
- everything else that reaches a provider once per field (lists, campaigns, a bulk operation, the
  campaign or message of a page's contacts, loaded in one batch): ``lookup``.

A request over ``limit`` is refused before its first upstream request (COST_LIMIT_EXCEEDED).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["QueryCosts"]


@dataclass(frozen=True, slots=True)
class QueryCosts:
    limit: int
    listing: int
    page: int
    lookup: int
    mutation_contact: int
    indexed: bool = False
