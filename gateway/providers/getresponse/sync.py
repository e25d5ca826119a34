"""GetResponse as a ``SyncSource``: what a sync of the deleted-contact index reads upstream.

``get_contacts_deleted`` answers one unordered object and has no pager, so a large account's full
listing is one huge reply.  A full read (:meth:`GetResponseSyncSource.everything`) cuts it by the
days of ``deleted_on`` instead: it walks from today back to the earliest day anything can have been
deleted, in windows that adapt to the account (a window whose reply held more than
``max_rows_per_reply`` rows is split and asked again; a window whose reply was small makes the next
one wider).  The first window is open above (a clock ahead of ours) and the last open below (a
campaign older than the ones listed), so every day is covered exactly once.

Replies show only the *general* reason (``bounce``); a specific one (``bounce::mailbox_full``) can
only be asked for.  So each window is ONE JSON-RPC batch: the plain call, plus one call per specific
reason for the same days, whose ids tell each row its sub-reason.

A deletion is *superseded* while an active contact holds the same lower-cased address in the same
campaign (the adapter's rule, ``mapping.listed_deletions``).  This source does not apply that rule: it
reports deletions and active memberships (``get_contacts``, cut by ``created_on`` days the same way,
only id, address and campaign decoded) and the index applies it, so that a later revival or a later
deletion of the active contact changes the answer without a full read.

A delta (:meth:`GetResponseSyncSource.changes`) is ONE batch: deletions from ``since``'s UTC day on
(with the sub-reason calls), active contacts changed (moved) or created (revived) from that day on,
and the catalog (campaign names, message names and types) for the name filters.

Rows carry the adapter's snapshot entry (``[contact id, entry]``) mapped by the adapter's own mapping,
so the index answers exactly what the live path would.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import msgspec

from gateway.core.filters import utc_day
from gateway.core.index import IndexedContact, Membership, SyncBatch
from gateway.core.model import Provider, ReasonFilter
from gateway.providers.errors import InvalidUpstreamResponse, ProviderError

from .client import GetResponseClient, RpcCall
from .conditions import DayRange, DeletedContactsQuery
from .mapping import from_listing_entry
from .records import Campaign, Message, id_map

__all__ = ["MESSAGE_TYPES", "SPECIFIC_REASONS", "GetResponseSyncSource"]

logger = logging.getLogger(__name__)

SPECIFIC_REASONS: tuple[str, ...] = tuple(r.value for r in ReasonFilter if r.is_specific)
"""The sub-reasons GetResponse can be asked for (results show only the general reason)."""

MESSAGE_TYPES: tuple[str, ...] = ("newsletter", "autoresponder", "ab_test", "draft")
"""Every documented message type: ``get_messages`` without ``type`` lists only the first two."""

_GETRESPONSE_FOUNDED = date(1998, 1, 1)


# -- reading replies --------------------------------------------------------------------------------


class _Member(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(min_length=1)]
    campaign: Annotated[str, msgspec.Meta(min_length=1)]


_MEMBERS = msgspec.json.Decoder(dict[str, _Member])
_IDS = msgspec.json.Decoder(dict[str, msgspec.Raw])


@dataclass(frozen=True, slots=True)
class _Members:
    """Active contacts read from a ``get_contacts`` reply's JSON (id, address and campaign only)."""

    rows: list[Membership]


@dataclass(frozen=True, slots=True)
class _Ids:
    """The ids of a ``get_contacts_deleted`` reply's JSON (nothing else decoded)."""

    ids: frozenset[str]


def _read_members(raw: bytes | memoryview) -> _Members:
    entries = _MEMBERS.decode(raw)
    if "" in entries:
        raise ValueError("an empty id")  # decoded again as plain JSON, where ``_members`` names it
    return _Members([Membership(cid, entry.email, entry.campaign) for cid, entry in entries.items()])


def _read_ids(raw: bytes | memoryview) -> _Ids:
    ids = frozenset(_IDS.decode(raw))
    if "" in ids:
        raise ValueError("an empty id")
    return _Ids(ids)


def _members(result: Any) -> list[Membership]:
    if isinstance(result, _Members):
        return result.rows
    found = []
    for contact_id, entry in id_map(result, "get_contacts result"):
        email, campaign = entry.get("email"), entry.get("campaign")
        if not isinstance(email, str) or not isinstance(campaign, str) or not email or not campaign:
            raise InvalidUpstreamResponse(
                f"contact {contact_id[:40]!r} has no email or campaign", provider=Provider.GETRESPONSE
            )
        found.append(Membership(contact_id, email, campaign))
    return found


def _ids(result: Any) -> frozenset[str]:
    if isinstance(result, _Ids):
        return result.ids
    return frozenset(contact_id for contact_id, _ in id_map(result, "get_contacts_deleted result"))


def _checked(answers: Sequence[Any]) -> Sequence[Any]:
    for answer in answers:
        if isinstance(answer, ProviderError):
            raise answer
    return answers


def _deleted_rows(plain: Any, specific: Sequence[Any]) -> list[IndexedContact]:
    """The rows of a plain ``get_contacts_deleted`` result, each told its sub-reason by the results
    of the same conditions with one specific reason each (in ``SPECIFIC_REASONS`` order)."""
    sub_reasons: dict[str, str] = {}
    for reason, answer in zip(SPECIFIC_REASONS, specific, strict=True):
        for contact_id in _ids(answer):
            sub_reasons.setdefault(contact_id, reason)
    rows = []
    for contact_id, raw in id_map(plain, "get_contacts_deleted result"):
        entry = [contact_id, raw]  # the adapter's snapshot entry
        contact = from_listing_entry(entry)
        campaign, message = raw.get("campaign"), raw.get("message")
        rows.append(
            IndexedContact.of(
                contact,
                entry,
                campaign_id=campaign if isinstance(campaign, str) else None,
                message_id=message if isinstance(message, str) else None,
                sub_reason=sub_reasons.get(contact_id),
            )
        )
    return rows


def _read_deleted(answers: Sequence[Any]) -> tuple[int, Callable[[], SyncBatch]]:
    rows = len(id_map(answers[0], "get_contacts_deleted result"))
    return rows, lambda: SyncBatch(deleted=_deleted_rows(answers[0], answers[1:]))


def _read_active(answers: Sequence[Any]) -> tuple[int, Callable[[], SyncBatch]]:
    active = _members(answers[0])
    return len(active), lambda: SyncBatch(active=active)


# -- day windows ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Walk:
    """Day windows from ``top`` back to ``floor``, sized so each reply stays within ``bound`` rows.

    ``from_day=None`` marks the last window (open below); the first is open above.  The next window's
    width aims at half the bound from the rows per day just seen, grows at most fourfold at a time
    and never passes ``max_width``.
    """

    top: date
    floor: date
    bound: int
    width: int
    max_width: int
    last_floor: date = _GETRESPONSE_FOUNDED
    to_day: date | None = None
    done: bool = False
    oversized: list[DayRange] = field(default_factory=list)

    def window(self) -> DayRange:
        upper = self.to_day if self.to_day is not None else self.top
        start = upper - timedelta(days=self.width - 1)
        return DayRange(from_day=None if start <= self.floor else start, to_day=self.to_day)

    def seen(self, window: DayRange, rows: int) -> bool:
        """Whether the reply of ``window`` (``rows`` rows) is kept; if not, ask again (narrower)."""
        days = None if window.from_day is None else ((window.to_day or self.top) - window.from_day).days + 1
        if rows > self.bound:
            if days is None and self.floor > self.last_floor:
                # More than the bound lies below the floor: walk on, by closed windows, to the last floor.
                self.floor = self.last_floor
                return False
            if days is not None and days > 1:
                self.width = max(1, min(days // 2, self.width * self.bound // (2 * rows)))
                return False
            self.oversized.append(window)  # one day (or all that is older) cannot be cut by days
        if window.from_day is None:
            self.done = True
            return True
        self.to_day = window.from_day - timedelta(days=1)
        aim = self.width * self.bound // (2 * rows) if rows else self.width * 4
        self.width = max(1, min(self.max_width, self.width * 4, aim))
        return True


# -- the source -------------------------------------------------------------------------------------


class GetResponseSyncSource:
    """Reads one GetResponse account for the index (see the module docstring).

    ``max_rows_per_reply`` bounds the rows of every reply of a full read (a single day holding more
    cannot be cut further and is read whole, with a warning); ``first_window_days`` is the width the
    walk starts with and ``max_window_days`` the widest it grows.  ``earliest_day`` is where the walk
    stops when the catalog does not say (campaigns without ``created_on``); the oldest campaign's
    creation day is used when every campaign has one.  ``today`` is the clock (UTC days).
    """

    provider = Provider.GETRESPONSE

    def __init__(
        self,
        client: GetResponseClient,
        *,
        max_rows_per_reply: int = 20_000,
        first_window_days: int = 30,
        max_window_days: int = 3660,
        earliest_day: date = _GETRESPONSE_FOUNDED,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        if max_rows_per_reply < 1 or first_window_days < 1 or max_window_days < first_window_days:
            raise ValueError(
                "max_rows_per_reply and first_window_days must be positive and max_window_days "
                "at least first_window_days"
            )
        self.client = client
        self.max_rows_per_reply = max_rows_per_reply
        self.first_window_days = first_window_days
        self.max_window_days = max_window_days
        self.earliest_day = earliest_day
        self._today = today

    def _requests(self, calls: Sequence[RpcCall]) -> int:
        """HTTP requests ``calls`` take: one batch (the calls here are far below the request size
        limit), or one each when the client does not batch."""
        return 1 if self.client.batching else len(calls)

    # -- calls ----------------------------------------------------------------------------------

    @staticmethod
    def _deleted_calls(days: DayRange) -> list[RpcCall]:
        query = DeletedContactsQuery(deleted_on=None if days.is_open else days)
        calls = [RpcCall("get_contacts_deleted", query.to_params())]
        for reason in SPECIFIC_REASONS:
            params = DeletedContactsQuery(deleted_on=query.deleted_on, reason=reason).to_params()
            calls.append(RpcCall("get_contacts_deleted", params, read=_read_ids))
        return calls

    @staticmethod
    def _members_call(key: str, days: DayRange) -> RpcCall:
        params = {} if days.is_open else {key: days.to_params()}
        return RpcCall("get_contacts", params, read=_read_members)

    @staticmethod
    def _catalog_calls() -> list[RpcCall]:
        return [RpcCall("get_campaigns")] + [RpcCall("get_messages", {"type": t}) for t in MESSAGE_TYPES]

    @staticmethod
    def _read_catalog(answers: Sequence[Any], batch: SyncBatch) -> list[Campaign]:
        campaigns = Campaign.parse_map(answers[0])
        batch.campaigns.update((c.campaign_id, c.name) for c in campaigns)
        for answer in answers[1:]:
            batch.messages.update((m.message_id, (m.name, m.type)) for m in Message.parse_map(answer))
        return campaigns

    # -- the port -------------------------------------------------------------------------------

    async def everything(self) -> AsyncIterator[SyncBatch]:
        """The catalog, then the deletions window by window, then the active memberships."""
        calls = self._catalog_calls()
        catalog = SyncBatch(requests=self._requests(calls))
        campaigns = self._read_catalog(_checked(await self.client.batch(calls)), catalog)
        yield catalog

        created = [c.created_on for c in campaigns]
        floor = self.earliest_day
        if created and all(moment is not None for moment in created):
            floor = max(floor, min(utc_day(moment) for moment in created if moment is not None))
        top = self._today()
        floor = min(floor, top)

        seen: set[str] = set()
        async for batch in self._walk(top, floor, self._deleted_calls, _read_deleted, "deleted_on"):
            batch.deleted = [row for row in batch.deleted if row.contact_id not in seen]
            seen.update(row.contact_id for row in batch.deleted)
            yield batch
        async for batch in self._walk(top, floor, self._created_calls, _read_active, "created_on"):
            yield batch

    def _created_calls(self, days: DayRange) -> list[RpcCall]:
        return [self._members_call("created_on", days)]

    async def _walk(
        self,
        top: date,
        floor: date,
        calls_for: Callable[[DayRange], list[RpcCall]],
        read: Callable[[Sequence[Any]], tuple[int, Callable[[], SyncBatch]]],
        what: str,
    ) -> AsyncIterator[SyncBatch]:
        """One batch per window kept; ``read`` tells a window's rows and how to make its batch."""
        walk = _Walk(
            top=top,
            floor=floor,
            bound=self.max_rows_per_reply,
            width=self.first_window_days,
            max_width=self.max_window_days,
            last_floor=min(self.earliest_day, floor),
        )
        wasted = 0  # requests of replies too large, counted with the window asked again
        while not walk.done:
            window = walk.window()
            calls = calls_for(window)
            answers = _checked(await self.client.batch(calls))
            requests = self._requests(calls) + wasted
            rows, make = read(answers)
            if not walk.seen(window, rows):
                wasted = requests
                continue
            wasted = 0
            batch = make()
            batch.requests = requests
            yield batch
        for window in walk.oversized:
            logger.warning(
                "getresponse sync: %s %s..%s holds more than %d rows, read in one reply",
                what, window.from_day, window.to_day, self.max_rows_per_reply,
            )  # fmt: skip

    async def changes(self, since: datetime) -> SyncBatch:
        """Deletions, revivals, moves and the catalog from ``since``'s UTC day on, in ONE batch."""
        day = DayRange(from_day=utc_day(since))
        deleted_calls = self._deleted_calls(day)
        member_calls = [self._members_call("changed_on", day), self._members_call("created_on", day)]
        catalog_calls = self._catalog_calls()
        calls = deleted_calls + member_calls + catalog_calls
        answers = _checked(await self.client.batch(calls))
        batch = SyncBatch(requests=self._requests(calls))

        count = len(deleted_calls)
        batch.deleted = _deleted_rows(answers[0], answers[1:count])
        active: dict[str, Membership] = {}
        for answer in answers[count : count + len(member_calls)]:
            active.update((m.contact_id, m) for m in _members(answer))
        batch.active = list(active.values())
        self._read_catalog(answers[count + len(member_calls) :], batch)
        return batch
