"""First pages: the merged head, presented, and the early head prepared while a slow provider is awaited."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.filters import DeletedContactFilter, utc_day
from gateway.core.listing import list_deleted_page
from gateway.core.model import DeletedContact, ListedContact, Provider
from gateway.core.ordering import first_listed, merge_listed, moment_order_key, order_key, sort_key
from gateway.core.snapshots import MemorySnapshotStore
from gateway.providers.errors import InvalidUpstreamResponse
from tests.schema.fakes import FakePort, make_contact


class SlowPort(FakePort):
    """A port whose listing waits until ``answer`` is set."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.answer = asyncio.Event()

    async def list_deleted(self, query: DeletedContactFilter) -> Any:
        await self.answer.wait()
        return await super().list_deleted(query)


def _contacts(provider: Provider, days: range) -> list[DeletedContact]:
    return [make_contact(provider, n) for n in days]


async def test_the_first_page_is_the_head_of_the_merge_and_later_pages_read_the_rest_in_order() -> None:
    cc = FakePort(Provider.CONSTANT_CONTACT, _contacts(Provider.CONSTANT_CONTACT, range(0, 20, 2)))
    gr = FakePort(Provider.GETRESPONSE, _contacts(Provider.GETRESPONSE, range(1, 20, 2)))
    ports = {Provider.CONSTANT_CONTACT: cc, Provider.GETRESPONSE: gr}
    store = MemorySnapshotStore()
    everything = [*cc.contacts.values(), *gr.contacts.values()]
    expected = sorted(everything, key=sort_key)

    def present(contact: DeletedContact) -> str:
        return f"{contact.provider.value}:{contact.contact_id}"

    query = DeletedContactFilter()
    page = await list_deleted_page(ports, store, query, first=7, after=None, present=present)
    assert page.items == [present(c) for c in expected[:7]] and page.total == 20
    walked = list(page.items)
    while page.has_next_page:
        after = page.cursor_at(len(page.items) - 1)
        page = await list_deleted_page(ports, store, query, first=7, after=after, present=present)
        walked += page.items
    assert walked == [present(c) for c in expected]


async def test_an_early_answer_prepares_its_head_while_the_slower_provider_is_awaited() -> None:
    fast = FakePort(Provider.CONSTANT_CONTACT, _contacts(Provider.CONSTANT_CONTACT, range(0, 12, 2)))
    slow = SlowPort(Provider.GETRESPONSE, _contacts(Provider.GETRESPONSE, range(1, 12, 2)))
    presented: list[str] = []

    def present(contact: DeletedContact) -> str:
        presented.append(contact.contact_id)
        return contact.contact_id

    request = asyncio.create_task(
        list_deleted_page(
            {Provider.CONSTANT_CONTACT: fast, Provider.GETRESPONSE: slow},
            MemorySnapshotStore(),
            DeletedContactFilter(),
            first=3,
            after=None,
            present=present,
        )
    )
    for _ in range(5):
        await asyncio.sleep(0)
    fast_head = [c.contact_id for c in sorted(fast.contacts.values(), key=sort_key)[:3]]
    assert presented == fast_head  # presented while GetResponse had not answered
    slow.answer.set()
    page = await request
    shown = [
        c.contact_id for c in sorted([*fast.contacts.values(), *slow.contacts.values()], key=sort_key)[:3]
    ]
    assert page.items == shown
    # After the last answer only the contacts shown are presented; the early head is not presented twice.
    assert sorted(presented) == sorted(set(fast_head) | set(shown))


@pytest.mark.parametrize("shown", [True, False])
async def test_a_prepared_contact_that_fails_to_present_fails_the_page_only_if_shown(shown: bool) -> None:
    fast = FakePort(Provider.CONSTANT_CONTACT, _contacts(Provider.CONSTANT_CONTACT, range(0, 6, 2)))
    slow = SlowPort(Provider.GETRESPONSE, _contacts(Provider.GETRESPONSE, range(1, 6, 2)))
    ordered = sorted(fast.contacts.values(), key=sort_key)
    broken = ordered[0 if shown else -1].contact_id  # the most recent CC deletion, or its last
    attempts: list[str] = []

    def present(contact: DeletedContact) -> str:
        attempts.append(contact.contact_id)
        if contact.contact_id == broken:
            raise InvalidUpstreamResponse("unexpected response shape", provider=Provider.CONSTANT_CONTACT)
        return contact.contact_id

    slow.answer.set()
    request = list_deleted_page(
        {Provider.CONSTANT_CONTACT: fast, Provider.GETRESPONSE: slow},
        MemorySnapshotStore(),
        DeletedContactFilter(),
        first=2,
        after=None,
        present=present,
    )
    if shown:
        with pytest.raises(InvalidUpstreamResponse):
            await request
        assert attempts.count(broken) == 2  # prepared, then tried again where it is shown
    else:
        page = await request
        assert broken not in page.items and len(page.items) == 2


def test_first_listed_is_the_head_of_merge_listed() -> None:
    listed = [
        ListedContact.of_contact(sort_key(c), None, c)
        for p in Provider
        for c in _contacts(p, range(0, 30, 3) if p is Provider.GETRESPONSE else range(0, 30, 2))
    ]
    for count in (0, 1, 5, len(listed), len(listed) + 3):  # 1: a heap; 5 and up: a sort of them all
        assert first_listed(listed, count) == merge_listed(listed)[:count]
        assert first_listed(iter(listed), count) == merge_listed(listed)[:count]


@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(-14 * 60, 14 * 60),
)
def test_moment_order_key_is_the_order_key_of_the_moment_on_its_utc_day(
    moment: datetime, offset_minutes: int
) -> None:
    elsewhere = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    expected = order_key(utc_day(elsewhere), elsewhere, Provider.GETRESPONSE, "c1")
    assert moment_order_key(elsewhere.timestamp(), Provider.GETRESPONSE, "c1") == expected
    assert utc_day(elsewhere) == date.fromordinal(-expected[0])
