"""The synced index of deleted contacts in the gateway's database (``deleted_contacts`` and friends).

:class:`DatabaseIndex` implements ``gateway.core.index.DeletedContactIndex``:

- A page is one keyset range scan of the composite index in merge order (``order_day``,
  ``order_moment``, ``provider``, ``contact_id``), compared as a row value, which both SQLite and
  PostgreSQL answer from the index; ``LIMIT limit + 1`` tells whether more rows lie beyond.
- Every condition of ``DeletedContactFilter`` is SQL, with the semantics of ``gateway.core.filters``
  and of GetResponse's own evaluation (``sandbox/emulators/getresponse``): text conditions compare
  casefolded columns with a casefolded value (folded in Python: SQLite's ``lower()`` folds ASCII only,
  and GetResponse compares case-insensitively as ``str.casefold`` does), campaign
  and message ids are ORed with the name condition through the stored catalog, a message-name
  condition looks at newsletters and autoresponders only (GetResponse's default message types).
- :meth:`DatabaseIndex.apply` writes a whole sync batch in one transaction and a handful of
  statements (multi-row ``INSERT .. ON CONFLICT``), whatever the batch's size: a backfill is
  thousands of batches.
- ``superseded`` marks a GetResponse deletion whose address is active again in the same campaign; it
  is recomputed for the addresses a write touched, and superseded rows never match anything.
- ``sync_state.contacts`` is the store's own: kept exact in the transaction of every write (from the
  visible rows each write added and removed; counted whole after a full run), and left alone by
  :meth:`DatabaseIndex.save_state`.

Rows are read with Core selects as plain rows (a page maps fifty of them; no ORM objects).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    bindparam,
    delete,
    exists,
    false,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Executable

from gateway.core.feed import ContactEvent, EventKind, EventSource
from gateway.core.filters import DayRange, DeletedContactFilter, TextCondition, TextOperator
from gateway.core.index import ApplyResult, IndexedContact, IndexPage, Membership, SyncBatch, SyncState
from gateway.core.memo import BoundedMemo
from gateway.core.model import ContactKey, OrderKey, Provider

from .database import Database
from .models import (
    DeletedContactRow,
    GetResponseCampaign,
    GetResponseMembership,
    GetResponseMessage,
    SyncStateRow,
)
from .outbox import write_events

__all__ = ["NO_TIME_MOMENT", "DatabaseIndex"]

NO_TIME_MOMENT = 1.0e18
"""``order_moment`` of a deletion without a time.  The merge-order key uses +inf there (after every
timed deletion of the day); a finite stand-in larger than any negated timestamp keeps the column an
ordinary number on both databases."""

_MESSAGE_NAME_TYPES = ("newsletter", "autoresponder")
"""The message types a nested ``get_messages`` looks at without a ``type`` (GetResponse's default)."""


_T = TypeVar("_T")
_D = DeletedContactRow
_M = GetResponseMembership
_PROVIDERS = {provider.value: provider for provider in Provider}
_ORDER_COLUMNS = (_D.order_day, _D.order_moment, _D.provider, _D.contact_id)
_READ_COLUMNS = (
    _D.provider,
    _D.contact_id,
    _D.email,
    _D.name,
    _D.created_on,
    _D.deleted_on,
    _D.deleted_at,
    _D.reason,
    _D.entry,
    _D.sub_reason,
    _D.campaign_id,
    _D.message_id,
)
_PAGE_COLUMNS = (*_READ_COLUMNS, _D.digest)


def _chunks(values: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _now() -> datetime:
    return datetime.now(UTC)


# -- rows ----------------------------------------------------------------------------------------------


def _stored_moment(moment: float) -> float:
    return NO_TIME_MOMENT if moment == float("inf") else moment


def _stored_key(key: OrderKey) -> tuple[int, float, str, str]:
    return (key[0], _stored_moment(key[1]), key[2], key[3])


def _row_values(contact: IndexedContact, written_at: datetime, seen_run: str | None) -> dict[str, Any]:
    """The columns of ``contact``'s row (``superseded`` is recomputed after the write)."""
    entry = orjson.dumps(contact.entry, option=orjson.OPT_SORT_KEYS)
    content = orjson.dumps(
        [
            contact.email,
            contact.name,
            contact.created_on,
            contact.deleted_on,
            contact.deleted_at,
            contact.reason,
            contact.sub_reason,
            contact.campaign_id,
            contact.message_id,
        ]
    )
    order = contact.order
    return {
        "provider": contact.provider.value,
        "contact_id": contact.contact_id,
        "email": contact.email,
        "email_key": contact.email.casefold(),
        "name": contact.name,
        "name_key": (contact.name or "").casefold(),
        "created_on": contact.created_on,
        "deleted_on": contact.deleted_on,
        "deleted_at": contact.deleted_at,
        "reason": contact.reason,
        "sub_reason": contact.sub_reason,
        "campaign_id": contact.campaign_id,
        "message_id": contact.message_id,
        "entry": entry.decode(),
        "digest": hashlib.sha256(content + b"\x00" + entry).hexdigest(),
        "order_day": order[0],
        "order_moment": _stored_moment(order[1]),
        "superseded": False,
        "seen_run": seen_run,
        "written_at": written_at,
    }


def _contact(row: Row[*tuple[Any, ...]]) -> IndexedContact:
    return IndexedContact(
        provider=_PROVIDERS[row.provider],
        contact_id=row.contact_id,
        email=row.email,
        name=row.name,
        created_on=row.created_on,
        deleted_on=row.deleted_on,
        deleted_at=row.deleted_at,
        reason=row.reason,
        entry=orjson.loads(row.entry),
        sub_reason=row.sub_reason,
        campaign_id=row.campaign_id,
        message_id=row.message_id,
    )


# -- the filter as SQL ---------------------------------------------------------------------------------


def _text(column: Any, condition: TextCondition) -> ColumnElement[bool]:
    """``condition`` on a casefolded column.  A NULL column matches no condition, negated or not
    (GetResponse: a message without a name matches no name condition)."""
    value = condition.value.casefold()
    if condition.operator in (TextOperator.EQUALS, TextOperator.NOT_EQUALS):
        # Literal: % and _ are ordinary characters.  Equality of the folded texts is what a LIKE
        # with every wildcard escaped means, and it can use a plain index.
        found: ColumnElement[bool] = column == value
    else:
        # A LIKE pattern: % and _ are wildcards; a backslash is an ordinary character.
        found = column.like(value.replace("\\", "\\\\"), escape="\\")
    return ~found if condition.operator.negated else found


def _days(column: Any, days: DayRange) -> list[ColumnElement[bool]]:
    # A closed range excludes NULL days: the comparisons are not true for NULL.
    conditions: list[ColumnElement[bool]] = []
    if days.start is not None:
        conditions.append(column >= days.start)
    if days.end is not None:
        conditions.append(column <= days.end)
    return conditions


def _conditions(query: DeletedContactFilter, *, in_order: bool = False) -> list[ColumnElement[bool]] | None:
    """The WHERE of ``query`` (ANDed), or None when no provider is asked (nothing can match).

    ``in_order`` (a page): the rows are wanted in merge order, so the condition on the provider is
    written so that no index can serve it (``provider || ''``): an index on the provider would make the
    planner read all of one provider's rows and sort them, where a scan of the order index stops after
    a page.  Deletion days become bounds on the order index's first column as well."""
    asked = [provider.value for provider in Provider if query.asks(provider)]
    if not asked:
        return None
    conditions: list[ColumnElement[bool]] = [_D.superseded == false()]
    if len(asked) < len(Provider):
        provider = _D.provider.concat("") if in_order else _D.provider
        conditions.append(provider.in_(asked))
    if in_order:
        # order_day is minus the deletion day's ordinal: the same range, on the order index.
        if query.deleted.start is not None:
            conditions.append(_D.order_day <= -query.deleted.start.toordinal())
        if query.deleted.end is not None:
            conditions.append(_D.order_day >= -query.deleted.end.toordinal())
    conditions.extend(_text(_D.email_key, condition) for condition in query.email)
    conditions.extend(_text(_D.name_key, condition) for condition in query.name)
    if query.reasons:
        # A general reason (UNKNOWN included) is the row's reason; a specific one its sub-reason.
        general = sorted(r.value for r in query.reasons if not r.is_specific)
        specific = sorted(r.value for r in query.reasons if r.is_specific)
        either: list[ColumnElement[bool]] = []
        if general:
            either.append(_D.reason.in_(general))
        if specific:
            either.append(_D.sub_reason.in_(specific))
        conditions.append(or_(*either))
    conditions.extend(_days(_D.created_on, query.created))
    conditions.extend(_days(_D.deleted_on, query.deleted))
    if query.campaign_ids or query.campaign_name is not None:
        # The ids OR the campaigns the name condition finds, as GetResponse's nested get_campaigns.
        campaigns: list[ColumnElement[bool]] = []
        if query.campaign_ids:
            campaigns.append(_D.campaign_id.in_(query.campaign_ids))
        if query.campaign_name is not None:
            named = select(GetResponseCampaign.id).where(
                _text(GetResponseCampaign.name_key, query.campaign_name)
            )
            campaigns.append(_D.campaign_id.in_(named))
        conditions.append(or_(*campaigns))
    if query.message_ids or query.message_name is not None:
        messages: list[ColumnElement[bool]] = []
        if query.message_ids:
            messages.append(_D.message_id.in_(query.message_ids))
        if query.message_name is not None:
            named = select(GetResponseMessage.id).where(
                GetResponseMessage.type.in_(_MESSAGE_NAME_TYPES),
                _text(GetResponseMessage.name_key, query.message_name),
            )
            messages.append(_D.message_id.in_(named))
        conditions.append(or_(*messages))
    return conditions


# -- writes --------------------------------------------------------------------------------------------


def _insert(connection: AsyncConnection, table: Any) -> Any:
    """The dialect's INSERT (for ``on_conflict_do_*``): both spell it the same way."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _supersedes() -> ColumnElement[bool]:
    """Whether an active membership shares the row's address and campaign (correlated)."""
    return exists().where(_M.email_key == _D.email_key, _M.campaign_id == _D.campaign_id)


async def _recompute_superseded(
    connection: AsyncConnection,
    email_keys: Iterable[str] | None,
    chunk: int,
    flips: list[_Flip] | None = None,
) -> tuple[int, int]:
    """Set ``superseded`` right for GetResponse rows of these addresses (None: every row); only rows
    whose flag changes are written.  (rows changed, change in the number of visible rows).
    ``flips`` collects the rows that changed."""
    flagged = _supersedes()
    base = update(_D).where(_D.provider == Provider.GETRESPONSE.value, _D.superseded != flagged)
    base = base.values(superseded=flagged).returning(_D.superseded, _D.contact_id, _D.email, _D.campaign_id)
    statements = (
        [base]
        if email_keys is None
        else [base.where(_D.email_key.in_(keys)) for keys in _chunks(sorted(set(email_keys)), chunk)]
    )
    changed = visible = 0
    for statement in statements:
        for superseded, contact_id, email, campaign_id in await connection.execute(statement):
            changed += 1
            visible += -1 if superseded else 1
            if flips is not None:
                flips.append(_Flip(contact_id, email, campaign_id, bool(superseded)))
    return changed, visible


@dataclass(frozen=True, slots=True)
class _Flip:
    """A row whose visibility changed: ``superseded`` is its new flag (or True: the row is gone)."""

    contact_id: str
    email: str
    campaign_id: str | None
    superseded: bool


async def _delete_rows(
    connection: AsyncConnection,
    provider: Provider,
    ids: Sequence[str],
    chunk: int,
    gone: list[_Flip] | None = None,
) -> tuple[int, int]:
    """Delete the provider's rows of these ids: (rows deleted, of which visible).  ``gone`` collects the
    visible rows deleted."""
    removed = visible = 0
    for some in _chunks(sorted(set(ids)), chunk):
        statement = delete(_D).where(_D.provider == provider.value, _D.contact_id.in_(some))
        returning = statement.returning(_D.superseded, _D.contact_id, _D.email, _D.campaign_id)
        for superseded, contact_id, email, campaign_id in await connection.execute(returning):
            removed += 1
            visible += not superseded
            if gone is not None and not superseded:
                gone.append(_Flip(contact_id, email, campaign_id, True))
    return removed, visible


@dataclass(slots=True)
class _Changes:
    """What one write changed, for the deletion feed's events."""

    new: list[str] = field(default_factory=list)
    """Ids of rows inserted, or deleted again (their deletion moment moved)."""
    flips: list[_Flip] = field(default_factory=list)
    """Rows that became invisible (gone, or superseded) or visible again."""


def _moment(contact: IndexedContact) -> datetime:
    if contact.deleted_at is not None:
        return contact.deleted_at
    return datetime(contact.deleted_on.year, contact.deleted_on.month, contact.deleted_on.day, tzinfo=UTC)


async def _write_change_events(
    connection: AsyncConnection,
    provider: Provider,
    changes: _Changes,
    written: dict[str, IndexedContact],
    source: EventSource,
    chunk: int,
) -> None:
    """One event per contact whose deleted-or-not state changed in this write, in the same transaction."""
    final: dict[str, _Flip] = {flip.contact_id: flip for flip in changes.flips}  # the last flip wins
    events: list[ContactEvent] = []
    for contact_id in changes.new:
        flip = final.pop(contact_id, None)
        if flip is not None and flip.superseded:
            continue  # written and hidden in one go: nothing a reader could have seen
        contact = written[contact_id]
        events.append(
            ContactEvent(
                EventKind.DELETED, provider, contact_id, contact.email, _moment(contact), source,
                entry=contact.entry, reason=contact.reason, campaign_id=contact.campaign_id,
            )
        )  # fmt: skip
    now = _now()
    shown = [flip.contact_id for flip in final.values() if not flip.superseded]
    rows: dict[str, Any] = {}
    for some in _chunks(shown, chunk):
        result = await connection.execute(
            select(*_READ_COLUMNS).where(_D.provider == provider.value, _D.contact_id.in_(some))
        )
        rows.update((row.contact_id, row) for row in result)
    for flip in final.values():
        if flip.superseded:
            events.append(
                ContactEvent(
                    EventKind.RESTORED, provider, flip.contact_id, flip.email, now, source,
                    campaign_id=flip.campaign_id,
                )
            )  # fmt: skip
        elif flip.contact_id in rows:
            contact = _contact(rows[flip.contact_id])
            events.append(
                ContactEvent(
                    EventKind.DELETED, provider, flip.contact_id, contact.email, _moment(contact), source,
                    entry=contact.entry, reason=contact.reason, campaign_id=contact.campaign_id,
                )
            )  # fmt: skip
    await write_events(connection, events)


async def _adjust_count(connection: AsyncConnection, provider: Provider, delta: int) -> None:
    """Add ``delta`` to the provider's stored count, or count its rows if it has no state row yet.

    A write knows how many visible rows it added and removed, so the count stays exact without a
    COUNT of the whole provider per batch (which would make a backfill quadratic)."""
    result = await connection.execute(
        update(SyncStateRow)
        .where(SyncStateRow.provider == provider.value)
        .values(contacts=SyncStateRow.contacts + delta)
    )
    if not result.rowcount:
        await _recount(connection, provider)


async def _drop_older_deletions(
    connection: AsyncConnection, written: Iterable[IndexedContact], chunk: int
) -> tuple[int, int]:
    """GetResponse lists one deletion per campaign and address, the newest: when an address is deleted
    again in the same campaign (after a revival), its older deletion is no longer listed, so its row
    goes.  Of the rows of each (address, campaign) written, only the first in merge order stays.
    (rows deleted, of which visible)."""
    pairs = sorted({(c.email.casefold(), c.campaign_id) for c in written if c.campaign_id is not None})
    removed = visible = 0
    for some in _chunks(pairs, chunk):
        result = await connection.execute(
            select(_D.email_key, _D.campaign_id, *_ORDER_COLUMNS).where(
                _D.provider == Provider.GETRESPONSE.value, tuple_(_D.email_key, _D.campaign_id).in_(some)
            )
        )
        newest: dict[tuple[str, str], tuple[Any, ...]] = {}
        rows = list(result)
        for row in rows:
            pair, order = (row.email_key, row.campaign_id), tuple(row[2:])
            if pair not in newest or order < newest[pair]:
                newest[pair] = order
        older = [row.contact_id for row in rows if tuple(row[2:]) != newest[(row.email_key, row.campaign_id)]]
        gone, gone_visible = await _delete_rows(connection, Provider.GETRESPONSE, older, chunk)
        removed, visible = removed + gone, visible + gone_visible
    return removed, visible


async def _recount(connection: AsyncConnection, provider: Provider) -> None:
    """Store the exact number of the provider's unsuperseded rows in its ``sync_state`` row."""
    counted = (
        select(func.count())
        .select_from(_D)
        .where(_D.provider == provider.value, _D.superseded == false())
        .scalar_subquery()
    )
    statement = _insert(connection, SyncStateRow).values(
        provider=provider.value, contacts=counted, revision=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=[SyncStateRow.provider],
        set_={"contacts": statement.excluded.contacts, "revision": SyncStateRow.revision + 1},
    )
    await connection.execute(statement)


async def _claim(connection: AsyncConnection, provider: Provider) -> None:
    """Write first: SQLite takes its write lock at a transaction's first write (waiting out the busy
    timeout), where a transaction that read first could be refused at once.  On PostgreSQL this
    locks the provider's state row, so writes of one provider queue up."""
    # The revision counts up here, in the write's own transaction: readers that see the new revision
    # see the new rows too (a replica's reused answers are keyed by it: gateway.core.answer_cache).
    await connection.execute(
        update(SyncStateRow)
        .where(SyncStateRow.provider == provider.value)
        .values(revision=SyncStateRow.revision + 1)
    )
    await _equality_lookups(connection)


async def _equality_lookups(connection: AsyncConnection) -> None:
    """Keep this transaction's lookups of many addresses off the trigram index (PostgreSQL).

    pg_trgm's GIN index also answers ``=``, and for a long ``email_key IN (...)`` list the planner
    prefers it to the B-tree, at a cost that grows with the table (every address shares trigrams
    with thousands of others).  A GIN index is only ever read through bitmap scans, so turning them
    off for the transaction leaves the B-tree indexes, which is what these statements need.
    """
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")


_AFTER = tuple(f"after_{i}" for i in range(len(_ORDER_COLUMNS)))
_BEFORE = tuple(f"before_{i}" for i in range(len(_ORDER_COLUMNS)))


def _bound_keys(after: OrderKey | None, before: OrderKey | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if after is not None:
        values.update(zip(_AFTER, _stored_key(after), strict=True))
    if before is not None:
        values.update(zip(_BEFORE, _stored_key(before), strict=True))
    return values


def _page_statement(
    query: DeletedContactFilter,
    columns: Sequence[Any],
    limit: int,
    after: OrderKey | None,
    before: OrderKey | None,
    backward: bool,
    *,
    bound: bool = False,
) -> Select[Any] | None:
    """The SELECT of a page (None: nothing can match).  ``bound``: the cursor's place is left to bound
    parameters (``_bound_keys``), so that the statement serves every page of the same shape."""
    conditions = _conditions(query, in_order=True)
    if conditions is None:
        return None
    key = tuple_(*_ORDER_COLUMNS)

    def place(order: OrderKey, names: tuple[str, ...]) -> Any:
        if not bound:
            return tuple_(*_stored_key(order))
        return tuple_(*(bindparam(n, type_=c.type) for n, c in zip(names, _ORDER_COLUMNS, strict=True)))

    if after is not None:
        conditions.append(key > place(after, _AFTER))
    if before is not None:
        conditions.append(key < place(before, _BEFORE))
    order = [c.desc() for c in _ORDER_COLUMNS] if backward else list(_ORDER_COLUMNS)
    return select(*columns).where(*conditions).order_by(*order).limit(limit + 1)


class DatabaseIndex:
    """A :class:`~gateway.core.index.DeletedContactIndex` on the gateway's database.

    It shares its caller's :class:`Database` and never closes it.  ``lookup_chunk`` values at most go
    into one ``IN`` list (well inside both databases' bound-parameter limits).

    With ``states_check`` on SQLite, :meth:`states` reads the ``sync_state`` table again only when the
    file changed since the last read (``Database.sqlite_data_version``).

    Pages may keep up to ``memo_contacts`` rows decoded (by provider, id and content digest: a changed
    row is a new entry) and ``memo_statements`` statements built (by filter and page shape); 0 turns
    either off.

    On PostgreSQL, rows inserted by this process since it last ran ``ANALYZE`` on the index's tables
    are counted; past ``analyze_after_rows`` and ``analyze_growth`` times the rows it had written
    by then, it runs it again.  A backfill grows an empty table to millions of rows within minutes,
    faster than autovacuum (when enabled at all) refreshes statistics, and without them the planner
    takes the batch lookups for scans of the whole provider: every batch then costs the table's size.
    """

    def __init__(
        self,
        database: Database,
        *,
        lookup_chunk: int = 1000,
        analyze_after_rows: int = 1000,
        analyze_growth: float = 0.5,
        memo_contacts: int = 0,
        memo_statements: int = 0,
        states_check: bool = False,
    ) -> None:
        self._database = database
        self._states_check = states_check
        self._states: dict[Provider, SyncState] | None = None
        self._states_version: int | None = None
        # Page statements by filter and shape, the cursor's place as bound parameters: a page of a
        # query seen before neither builds its statement nor has SQLAlchemy derive its cache key.
        self._statements: BoundedMemo[tuple[Any, ...], Select[Any] | None] | None = (
            BoundedMemo(memo_statements) if memo_statements > 0 else None
        )
        # Rows of pages, by identity and content digest: an unchanged row is not decoded again.
        self._memo: BoundedMemo[tuple[str, str, str], IndexedContact] | None = (
            BoundedMemo(memo_contacts) if memo_contacts > 0 else None
        )
        self._chunk = lookup_chunk
        self._analyze_after_rows = analyze_after_rows
        self._analyze_growth = analyze_growth
        self._rows_at_analyze = 0
        self._written_since_analyze = 0

    # -- reads ---------------------------------------------------------------------------------------

    async def page(
        self,
        query: DeletedContactFilter,
        *,
        limit: int,
        after: OrderKey | None = None,
        before: OrderKey | None = None,
        backward: bool = False,
    ) -> IndexPage:
        if limit <= 0:
            return IndexPage([], False)
        backward = backward or (before is not None and after is None)
        columns = _READ_COLUMNS if self._memo is None else _PAGE_COLUMNS
        if self._statements is None:
            statement = _page_statement(query, columns, limit, after, before, backward)
            if statement is None:
                return IndexPage([], False)
            rows = await self._read(statement)
        else:
            shape = (query, columns, limit, after is not None, before is not None, backward)
            if shape in self._statements:
                known = self._statements.get(shape)
            else:
                known = _page_statement(query, columns, limit, after, before, backward, bound=True)
                self._statements.put(shape, known)
            if known is None:
                return IndexPage([], False)
            rows = await self._read(known, _bound_keys(after, before))
        more = len(rows) > limit
        shown = rows[:limit]
        if backward:
            shown.reverse()
        return IndexPage(self._contacts(shown), more)

    def _contacts(self, rows: Sequence[Row[*tuple[Any, ...]]]) -> list[IndexedContact]:
        memo = self._memo
        if memo is None:
            return [_contact(row) for row in rows]
        contacts: list[IndexedContact] = []
        for row in rows:
            # The digest covers every column a contact is made of (``_row_values``).
            key = (row.provider, row.contact_id, row.digest)
            contact = memo.get(key)
            if contact is None:
                contact = _contact(row)
                memo.put(key, contact)
            contacts.append(contact)
        return contacts

    async def count(self, query: DeletedContactFilter) -> dict[Provider, int]:
        conditions = _conditions(query)
        if conditions is None:
            return {}
        statement = select(_D.provider, func.count().label("n")).where(*conditions).group_by(_D.provider)
        return {_PROVIDERS[row.provider]: int(row.n) for row in await self._read(statement) if row.n}

    async def get(self, keys: Sequence[ContactKey]) -> list[IndexedContact | None]:
        found: dict[ContactKey, IndexedContact] = {}
        by_provider: dict[Provider, list[str]] = {}
        for key in keys:
            by_provider.setdefault(key.provider, []).append(key.contact_id)
        for provider, ids in by_provider.items():
            for chunk in _chunks(sorted(set(ids)), self._chunk):
                statement = select(*_READ_COLUMNS).where(
                    _D.provider == provider.value, _D.contact_id.in_(chunk), _D.superseded == false()
                )
                for row in await self._read(statement):
                    contact = _contact(row)
                    found[contact.key] = contact
        return [found.get(key) for key in keys]

    async def by_email(self, emails: Sequence[str]) -> list[list[IndexedContact]]:
        wanted = sorted({email.casefold() for email in emails})
        rows: dict[str, list[IndexedContact]] = {}
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await _equality_lookups(connection)
                for chunk in _chunks(wanted, self._chunk):
                    statement = (
                        select(*_READ_COLUMNS)
                        .where(_D.email_key.in_(chunk), _D.superseded == false())
                        .order_by(*_ORDER_COLUMNS)
                    )
                    for row in await connection.execute(statement):
                        rows.setdefault(row.email.casefold(), []).append(_contact(row))
        return [rows.get(email.casefold(), []) for email in emails]

    async def states(self) -> dict[Provider, SyncState]:
        # SQLite: the states last read stand while no connection committed anything since (the
        # number is taken before the read, so a commit during it makes the next call read again).
        version = self._database.sqlite_data_version() if self._states_check else None
        if version is not None and version == self._states_version and self._states is not None:
            return dict(self._states)
        states = await self._read_states()
        self._states, self._states_version = states, version
        return dict(states)

    async def _read_states(self) -> dict[Provider, SyncState]:
        rows = await self._read(select(SyncStateRow.__table__))
        return {
            _PROVIDERS[row.provider]: SyncState(
                provider=_PROVIDERS[row.provider],
                watermark=row.watermark,
                backfilled_at=row.backfilled_at,
                reconciled_at=row.reconciled_at,
                synced_at=row.synced_at,
                contacts=row.contacts,
                last_error=row.last_error,
                revision=row.revision,
            )
            for row in rows
            if row.provider in _PROVIDERS
        }

    # -- writes --------------------------------------------------------------------------------------

    async def save_state(self, state: SyncState) -> None:
        """Write the state; ``contacts`` is left as the store counted it (the caller's is older)."""
        fields = {
            "watermark": state.watermark,
            "backfilled_at": state.backfilled_at,
            "reconciled_at": state.reconciled_at,
            "synced_at": state.synced_at,
            "last_error": state.last_error,
        }
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                result = await connection.execute(
                    update(SyncStateRow).where(SyncStateRow.provider == state.provider.value).values(**fields)
                )
                if result.rowcount:
                    return
                # The provider's first state: its count starts from what the index holds.
                counted = (
                    select(func.count())
                    .select_from(_D)
                    .where(_D.provider == state.provider.value, _D.superseded == false())
                    .scalar_subquery()
                )
                statement = _insert(connection, SyncStateRow).values(
                    provider=state.provider.value, contacts=counted, **fields
                )
                statement = statement.on_conflict_do_update(
                    index_elements=[SyncStateRow.provider],
                    set_={name: statement.excluded[name] for name in fields},
                )
                await connection.execute(statement)

    async def apply(
        self,
        provider: Provider,
        batch: SyncBatch,
        *,
        full_run: str | None = None,
        events: EventSource | None = None,
    ) -> ApplyResult:
        now = _now()
        # The last of several entries for one id wins (one multi-row upsert may not touch a row twice).
        deleted = {contact.contact_id: contact for contact in batch.deleted if contact.provider is provider}
        revived = sorted(set(batch.not_deleted) - deleted.keys())
        changes = _Changes() if events is not None else None
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await _claim(connection, provider)
                inserted, updated = await self._write_deleted(
                    connection, provider, deleted, now, full_run, changes.new if changes else None
                )
                removed, visible_removed = await _delete_rows(
                    connection, provider, revived, self._chunk, changes.flips if changes else None
                )
                # New rows are written visible; the recomputation below corrects any that are not.
                delta = inserted - visible_removed
                touched = {values.email.casefold() for values in deleted.values()}
                # A full read lists only the newest deletion of each address and campaign (and its end
                # drops the rows it did not see): the older ones can only linger after a delta.
                if provider is Provider.GETRESPONSE and full_run is None:
                    dropped, visible_dropped = await _drop_older_deletions(
                        connection, deleted.values(), self._chunk
                    )
                    removed, delta = removed + dropped, delta - visible_dropped
                    touched |= await self._write_memberships(
                        connection, batch.active, sorted(deleted), now, full_run
                    )
                    await self._write_catalog(connection, batch)
                    flips = changes.flips if changes else None
                    delta += (await _recompute_superseded(connection, touched, self._chunk, flips))[1]
                await _adjust_count(connection, provider, delta)
                if changes is not None and events is not None:
                    await _write_change_events(connection, provider, changes, deleted, events, self._chunk)
        await self._analyze_if_grown(inserted + len(batch.active))
        return ApplyResult(inserted=inserted, updated=updated, removed=removed)

    async def _analyze_if_grown(self, written: int) -> None:
        if self._database.is_sqlite:
            return
        self._written_since_analyze += written
        grown = self._written_since_analyze
        if grown < self._analyze_after_rows or grown < self._analyze_growth * self._rows_at_analyze:
            return
        with self._database.unavailable_as_error():
            async with self._database.connect() as connection:
                await connection.exec_driver_sql("ANALYZE deleted_contacts, getresponse_memberships")
        self._rows_at_analyze += grown
        self._written_since_analyze = 0

    async def _write_deleted(
        self,
        connection: AsyncConnection,
        provider: Provider,
        deleted: dict[str, IndexedContact],
        now: datetime,
        full_run: str | None,
        new_deletions: list[str] | None = None,
    ) -> tuple[int, int]:
        """Insert new rows, rewrite changed ones, mark unchanged ones seen.  (inserted, updated).
        ``new_deletions`` collects the ids inserted or deleted again (their deletion moved)."""
        if not deleted:
            return 0, 0
        stored: dict[str, tuple[str, int, float]] = {}
        ids = sorted(deleted)
        for chunk in _chunks(ids, self._chunk):
            result = await connection.execute(
                select(_D.contact_id, _D.digest, _D.order_day, _D.order_moment).where(
                    _D.provider == provider.value, _D.contact_id.in_(chunk)
                )
            )
            stored.update((row.contact_id, (row.digest, row.order_day, row.order_moment)) for row in result)
        written: list[dict[str, Any]] = []
        unchanged: list[str] = []
        inserted = updated = 0
        for contact_id in ids:
            values = _row_values(deleted[contact_id], now, full_run)
            old = stored.get(contact_id)
            if old is None:
                inserted += 1
                if new_deletions is not None:
                    new_deletions.append(contact_id)
            elif old[0] != values["digest"]:
                updated += 1
                moved = (old[1], old[2]) != (values["order_day"], values["order_moment"])
                if new_deletions is not None and moved:
                    new_deletions.append(contact_id)
            else:
                unchanged.append(contact_id)
                continue
            written.append(values)
        if written:
            statement = _insert(connection, _D)
            replaced = {
                name: statement.excluded[name]
                for name in written[0]
                if name not in ("provider", "contact_id", "superseded")
                and (name != "seen_run" or full_run is not None)
            }
            await connection.execute(
                statement.on_conflict_do_update(index_elements=[_D.provider, _D.contact_id], set_=replaced),
                written,
            )
        # Unchanged rows are seen now: by this full run, if any, and as of this write.
        seen: dict[str, Any] = {"written_at": now}
        if full_run is not None:
            seen["seen_run"] = full_run
        for chunk in _chunks(unchanged, self._chunk):
            await connection.execute(
                update(_D)
                .where(_D.provider == provider.value, _D.contact_id.in_(chunk))
                .values(**seen)
                .execution_options(synchronize_session=False)
            )
        return inserted, updated

    async def _write_memberships(
        self,
        connection: AsyncConnection,
        active: Sequence[Membership],
        deleted_ids: Sequence[str],
        now: datetime,
        full_run: str | None,
    ) -> set[str]:
        """Upsert the active memberships, drop those of contacts now deleted; the addresses whose
        deletions may have changed side (old and new addresses of every membership touched)."""
        gone = set(deleted_ids)
        memberships = {m.contact_id: m for m in active if m.contact_id not in gone}
        ids = sorted({*memberships, *deleted_ids})
        touched = {m.email.casefold() for m in memberships.values()}
        for chunk in _chunks(ids, self._chunk):
            result = await connection.execute(select(_M.email_key).where(_M.contact_id.in_(chunk)))
            touched.update(email_key for (email_key,) in result)
        for chunk in _chunks(list(deleted_ids), self._chunk):
            await connection.execute(delete(_M).where(_M.contact_id.in_(chunk)))
        if memberships:
            rows = [
                {
                    "contact_id": m.contact_id,
                    "email_key": m.email.casefold(),
                    "campaign_id": m.campaign_id,
                    "seen_run": full_run,
                    "written_at": now,
                }
                for m in memberships.values()
            ]
            statement = _insert(connection, _M)
            replaced = {
                name: statement.excluded[name]
                for name in rows[0]
                if name != "contact_id" and (name != "seen_run" or full_run is not None)
            }
            await connection.execute(
                statement.on_conflict_do_update(index_elements=[_M.contact_id], set_=replaced), rows
            )
        return touched

    async def _write_catalog(self, connection: AsyncConnection, batch: SyncBatch) -> None:
        if batch.campaigns:
            statement = _insert(connection, GetResponseCampaign)
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[GetResponseCampaign.id],
                    set_={"name": statement.excluded.name, "name_key": statement.excluded.name_key},
                ),
                [{"id": i, "name": n, "name_key": n.casefold()} for i, n in sorted(batch.campaigns.items())],
            )
        if batch.messages:
            statement = _insert(connection, GetResponseMessage)
            rows = [
                {"id": i, "name": n, "name_key": n.casefold() if n is not None else None, "type": t}
                for i, (n, t) in sorted(batch.messages.items())
            ]
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[GetResponseMessage.id],
                    set_={
                        "name": statement.excluded.name,
                        "name_key": statement.excluded.name_key,
                        "type": statement.excluded.type,
                    },
                ),
                rows,
            )

    async def finish_full_run(
        self, provider: Provider, full_run: str, started_at: datetime, *, events: EventSource | None = None
    ) -> ApplyResult:
        """``removed``: the provider's rows the run did not see; ``updated``: rows whose superseded
        flag changed (memberships the run did not see are dropped too)."""
        changes = _Changes() if events is not None else None
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                await _claim(connection, provider)
                unseen_row = or_(_D.seen_run.is_(None), _D.seen_run != full_run)
                unseen = await connection.execute(
                    select(_D.contact_id).where(
                        _D.provider == provider.value, unseen_row, _D.written_at < started_at
                    )
                )
                removed, _ = await _delete_rows(
                    connection,
                    provider,
                    [cid for (cid,) in unseen],
                    self._chunk,
                    changes.flips if changes else None,
                )
                updated = 0
                if provider is Provider.GETRESPONSE:
                    unseen_membership = or_(_M.seen_run.is_(None), _M.seen_run != full_run)
                    await connection.execute(delete(_M).where(unseen_membership, _M.written_at < started_at))
                    flips = changes.flips if changes else None
                    updated = (await _recompute_superseded(connection, None, self._chunk, flips))[0]
                await _recount(connection, provider)
                if changes is not None and events is not None:
                    await _write_change_events(connection, provider, changes, {}, events, self._chunk)
        return ApplyResult(updated=updated, removed=removed)

    async def remove(self, keys: Sequence[ContactKey]) -> int:
        by_provider: dict[Provider, list[str]] = {}
        for key in keys:
            by_provider.setdefault(key.provider, []).append(key.contact_id)
        removed = 0
        with self._database.unavailable_as_error():
            async with self._database.begin() as connection:
                # Providers in a fixed order: two removals never wait for each other's state rows.
                for provider, ids in sorted(by_provider.items(), key=lambda item: item[0].value):
                    await _claim(connection, provider)
                    gone, visible = await _delete_rows(connection, provider, ids, self._chunk)
                    removed += gone
                    await _adjust_count(connection, provider, -visible)
        return removed

    async def _read(
        self, statement: Executable, parameters: dict[str, Any] | None = None
    ) -> list[Row[*tuple[Any, ...]]]:
        with self._database.unavailable_as_error():
            return await self._database.select(statement, parameters)
