"""The synced index in the database, on SQLite and PostgreSQL: keyset pages in merge order (forward,
backward, while rows come and go), every filter condition against ``DeletedContactFilter.matches``
and GetResponse's campaign/message/sub-reason semantics, superseded deletions, apply and full-run
bookkeeping, sync state, and migration 0005 down and up."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from gateway.core.filters import DayRange, DeletedContactFilter, TextCondition, TextOperator
from gateway.core.index import DeletedContactIndex, IndexedContact, Membership, SyncBatch, SyncState
from gateway.core.model import ContactKey, DeletedContact, DeletionReason, OrderKey, Provider, ReasonFilter
from gateway.store import Database, DatabaseIndex

from .migrating import migrate

CC, GR = Provider.CONSTANT_CONTACT, Provider.GETRESPONSE
DAY = date(2026, 5, 1)
CAMPAIGNS = {"c1": "Spring News", "c2": "spring_sale", "c3": "Autumn 100%"}
MESSAGES: dict[str, tuple[str | None, str]] = {
    "m1": ("Welcome", "newsletter"),
    "m2": ("welcome back", "autoresponder"),
    "m3": ("Welcome test", "ab_test"),
    "m4": (None, "newsletter"),
}
SPECIFIC = [r.value for r in ReasonFilter if r.is_specific]
GENERAL = [r.value for r in DeletionReason if r is not DeletionReason.UNKNOWN]


def contact(
    provider: Provider,
    contact_id: str,
    email: str,
    *,
    deleted_on: date = DAY,
    deleted_at: datetime | None = None,
    name: str | None = None,
    created_on: date | None = None,
    reason: str = "unknown",
    sub_reason: str | None = None,
    campaign_id: str | None = None,
    message_id: str | None = None,
) -> IndexedContact:
    return IndexedContact(
        provider=provider,
        contact_id=contact_id,
        email=email,
        name=name,
        created_on=created_on,
        deleted_on=deleted_on,
        deleted_at=deleted_at,
        reason=reason,
        entry={"id": contact_id, "email": email, "nested": [1, "two", None]},
        sub_reason=sub_reason,
        campaign_id=campaign_id,
        message_id=message_id,
    )


def _deleted_contact(row: IndexedContact) -> DeletedContact:
    created = datetime.combine(row.created_on, time(12), UTC) if row.created_on else None
    return DeletedContact(
        row.provider,
        row.contact_id,
        row.email,
        row.name,
        created,
        row.deleted_on,
        row.deleted_at,
        DeletionReason(row.reason),
        None,
        {},
        None,
    )


def oracle(query: DeletedContactFilter, row: IndexedContact) -> bool:
    """What the index must answer: ``matches`` plus what only GetResponse evaluates (exact sub-reasons,
    campaign and message ids ORed with their name conditions)."""
    if not query.matches(_deleted_contact(row)):
        return False
    if query.reasons and not any(
        row.sub_reason == r.value if r.is_specific else row.reason == r.value for r in query.reasons
    ):
        return False
    if query.campaign_ids or query.campaign_name:
        named = {
            i
            for i, n in CAMPAIGNS.items()
            if query.campaign_name is not None and query.campaign_name.matches(n)
        }
        if row.campaign_id not in {*query.campaign_ids, *named}:
            return False
    if query.message_ids or query.message_name:
        named = {
            i
            for i, (n, t) in MESSAGES.items()
            if query.message_name is not None
            and n is not None
            and t in ("newsletter", "autoresponder")
            and query.message_name.matches(n)
        }
        if row.message_id not in {*query.message_ids, *named}:
            return False
    return True


def population(seed: int, size: int) -> list[IndexedContact]:
    rng = random.Random(seed)
    locals_ = ["ann", "Bob", "a%b", "a_b", "a\\b", "axxb", "éLise", "shop", "SHOP.keeper", "z"]
    domains = ["example.com", "Mail.EXAMPLE.org", "x.io"]
    names = [None, "", "Ann Lee", "BOB_smith", "100% Real", "élise Ñ"]
    rows = []
    for n in range(size):
        provider = rng.choice([CC, GR])
        day = DAY - timedelta(days=rng.randrange(6))
        moment = (
            None
            if rng.random() < 0.3
            else datetime.combine(day, time(), UTC) + timedelta(seconds=rng.randrange(86400))
        )
        created = None if rng.random() < 0.3 else day - timedelta(days=rng.randrange(10))
        reason, sub, campaign, message = "unknown", None, None, None
        if provider is GR:
            sub = rng.choice([None, *SPECIFIC])
            reason = sub.split("::")[0] if sub else rng.choice([*GENERAL, "unknown"])
            campaign = rng.choice(["c1", "c2", "c3", "c9"])
            message = rng.choice([None, "m1", "m2", "m3", "m4"])
        rows.append(
            contact(
                provider,
                f"{provider.value[:2]}{n:04d}",
                # GetResponse lists one deletion per address and campaign: its addresses are distinct.
                f"{rng.choice(locals_)}{n % 7}{'' if provider is CC else f'.{n}'}@{rng.choice(domains)}",
                deleted_on=day,
                deleted_at=moment,
                name=rng.choice(names),
                created_on=created,
                reason=reason,
                sub_reason=sub,
                campaign_id=campaign,
                message_id=message,
            )
        )
    return rows


def random_filter(rng: random.Random) -> DeletedContactFilter:
    values = ["%ex%", "a%b%", "a_b%", "%\\%", "%.COM", "shop%", "ann0@example.com", "A%B3@X.IO", "%é%"]
    names = ["%lee", "bob\\_%", "%100%", "", "%ñ", "ann lee", "_%"]

    def text(pool: list[str]) -> TextCondition:
        return TextCondition(rng.choice(list(TextOperator)), rng.choice(pool))

    def days() -> DayRange:
        start = DAY - timedelta(days=rng.randrange(8)) if rng.random() < 0.5 else None
        end = DAY - timedelta(days=rng.randrange(3)) if rng.random() < 0.5 else None
        if start and end and start > end:
            start, end = end, start
        return DayRange(start, end)

    def maybe(chance: float) -> bool:
        return rng.random() < chance

    return DeletedContactFilter(
        email=tuple(text(values) for _ in range(rng.choice([0, 0, 1, 2]))),
        name=tuple(text(names) for _ in range(rng.choice([0, 0, 1]))),
        reasons=frozenset(rng.sample(list(ReasonFilter), rng.choice([0, 0, 1, 2, 3]))),
        created=days() if maybe(0.3) else DayRange(),
        deleted=days() if maybe(0.3) else DayRange(),
        campaign_ids=tuple(rng.sample(["c1", "c2", "c3", "c7"], rng.choice([1, 2]))) if maybe(0.15) else (),
        campaign_name=text(["spring%", "%100\\%%", "autumn 100%", "%_sale"]) if maybe(0.15) else None,
        message_ids=tuple(rng.sample(["m1", "m3", "m9"], 1)) if maybe(0.15) else (),
        message_name=text(["welcome%", "welcome", "%test"]) if maybe(0.15) else None,
        providers=frozenset(rng.sample([CC, GR], 1)) if maybe(0.2) else frozenset(),
    )


async def walk(index: DatabaseIndex, query: DeletedContactFilter, size: int) -> list[IndexedContact]:
    rows: list[IndexedContact] = []
    after: OrderKey | None = None
    while True:
        page = await index.page(query, limit=size, after=after)
        rows.extend(page.rows)
        assert len(page.rows) == size if page.more else len(page.rows) <= size
        if not page.more:
            return rows
        after = page.rows[-1].order


def keys(rows: Sequence[IndexedContact]) -> list[tuple[str, str]]:
    return [(r.provider.value, r.contact_id) for r in rows]


async def fill(index: DatabaseIndex, rows: Sequence[IndexedContact], **batch: object) -> None:
    for provider in Provider:
        mine = [r for r in rows if r.provider is provider]
        extra = batch if provider is GR else {}
        await index.apply(provider, SyncBatch(deleted=mine, **extra))  # type: ignore[arg-type]  # test kwargs


async def assert_contacts_exact(index: DatabaseIndex) -> None:
    """The stored ``contacts`` of every provider is what a COUNT finds."""
    counted = await index.count(DeletedContactFilter())
    assert {p: s.contacts for p, s in (await index.states()).items() if s.contacts} == counted


def test_the_database_index_is_a_deleted_contact_index(database: Database) -> None:
    index: DeletedContactIndex = DatabaseIndex(database)  # mypy checks the Protocol here
    assert index is not None


async def test_pages_walk_the_merge_order_forward_and_backward(database: Database) -> None:
    index = DatabaseIndex(database)
    rows = population(1, 120)
    # Same-day rows with and without a time: those without sort after the timed ones.
    rows.append(contact(CC, "untimed", "u@x.io", deleted_on=DAY))
    rows.append(
        contact(CC, "timed", "t@x.io", deleted_on=DAY, deleted_at=datetime(2026, 5, 1, 23, tzinfo=UTC))
    )
    await fill(index, rows)
    expected = sorted(rows, key=lambda r: r.order)
    everything = DeletedContactFilter()
    for size in (1, 2, 7, 50, 500):
        assert keys(await walk(index, everything, size)) == keys(expected)
    ordered = keys(expected)
    assert ordered.index(("constant_contact", "timed")) < ordered.index(("constant_contact", "untimed"))
    first = await index.page(everything, limit=len(rows))
    assert not first.more and keys(first.rows) == keys(expected)
    assert (await index.page(everything, limit=len(rows) - 1)).more

    for size in (1, 3, 50):
        backward: list[IndexedContact] = []
        before: OrderKey | None = expected[-1].order
        while before is not None:
            page = await index.page(everything, limit=size, before=before)
            assert keys(page.rows) == sorted(keys(page.rows), key=ordered.index)  # merge order
            backward[:0] = page.rows
            before = page.rows[0].order if page.more else None
        assert keys(backward) == keys(expected[:-1])
    # Both bounds: the rows strictly between.
    between = await index.page(everything, limit=1000, after=expected[3].order, before=expected[9].order)
    assert keys(between.rows) == keys(expected[4:9]) and not between.more


async def test_paging_while_rows_come_and_go_never_repeats_or_skips(database: Database) -> None:
    index = DatabaseIndex(database, lookup_chunk=2)  # several IN lists per lookup
    rng = random.Random(7)
    rows = population(2, 80)
    await fill(index, rows)
    present = {r.key: r for r in rows}
    throughout = set(present)
    seen: list[ContactKey] = []
    after: OrderKey | None = None
    fresh = population(3, 60)
    while True:
        page = await index.page(DeletedContactFilter(), limit=6, after=after)
        seen.extend(r.key for r in page.rows)
        # Between pages: some rows go, some new ones arrive anywhere in the order.
        gone = rng.sample(sorted(present, key=lambda k: (k.provider.value, k.contact_id)), 2)
        await index.remove(gone)
        for key in gone:
            present.pop(key)
            throughout.discard(key)
        arriving = [
            contact(
                r.provider, f"new-{r.contact_id}", r.email, deleted_on=r.deleted_on, deleted_at=r.deleted_at
            )
            for r in fresh[:3]
        ]
        fresh = fresh[3:]
        await fill(index, arriving)
        present.update((r.key, r) for r in arriving)
        if not page.more:
            break
        after = page.rows[-1].order
    assert len(seen) == len(set(seen))
    assert throughout <= set(seen)
    await assert_contacts_exact(index)


async def test_every_filter_condition_agrees_with_the_filter_semantics(database: Database) -> None:
    index = DatabaseIndex(database)
    rows = population(4, 400)
    await fill(index, rows, campaigns=CAMPAIGNS, messages=MESSAGES)
    rng = random.Random(11)
    nonempty = 0
    for _ in range(150):
        query = random_filter(rng)
        expected = sorted((r for r in rows if oracle(query, r)), key=lambda r: r.order)
        page = await index.page(query, limit=1000)
        assert keys(page.rows) == keys(expected), query
        counts: dict[Provider, int] = {}
        for r in expected:
            counts[r.provider] = counts.get(r.provider, 0) + 1
        assert await index.count(query) == counts, query
        nonempty += bool(expected)
    assert nonempty > 30  # the filters were not all trivially empty


async def test_wildcards_and_backslashes(database: Database) -> None:
    index = DatabaseIndex(database)
    emails = ["a%b@x.com", "axxb@x.com", "a_b@x.com", "a\\b@x.com", "A%B@X.COM.extra"]
    await fill(index, [contact(CC, f"w{n}", e) for n, e in enumerate(emails)])

    async def found(operator: TextOperator, value: str) -> list[str]:
        page = await index.page(DeletedContactFilter(email=(TextCondition(operator, value),)), limit=100)
        return sorted(r.email for r in page.rows)

    assert await found(TextOperator.EQUALS, "A%B@x.com") == ["a%b@x.com"]
    assert await found(TextOperator.EQUALS, "a_b@x.com") == ["a_b@x.com"]
    assert await found(TextOperator.EQUALS, "a\\b@x.com") == ["a\\b@x.com"]
    assert await found(TextOperator.CONTAINS, "a%b@x.com") == sorted(emails[:4])
    assert await found(TextOperator.CONTAINS, "a_b@x.com") == ["a%b@x.com", "a\\b@x.com", "a_b@x.com"]
    assert await found(TextOperator.CONTAINS, "a\\b%") == ["a\\b@x.com"]
    assert await found(TextOperator.NOT_CONTAINS, "%x.com") == ["A%B@X.COM.extra"]
    assert await found(TextOperator.NOT_EQUALS, "A_B@X.COM") == sorted(set(emails) - {"a_b@x.com"})


async def test_sub_reasons_campaigns_and_messages(database: Database) -> None:
    index = DatabaseIndex(database)
    rows = [
        contact(GR, "g1", "one@x.io", reason="bounce", sub_reason="bounce::mailbox_full", campaign_id="c1"),
        contact(GR, "g2", "two@x.io", reason="bounce", sub_reason="bounce::user_unknown", campaign_id="c2"),
        contact(GR, "g3", "three@x.io", reason="api", campaign_id="c3", message_id="m3"),
        contact(GR, "g4", "four@x.io", reason="unknown", campaign_id="c1", message_id="m1"),
        contact(CC, "k1", "one@x.io"),
    ]
    await fill(index, rows, campaigns=CAMPAIGNS, messages=MESSAGES)

    async def ids(**conditions: object) -> list[str]:
        query = DeletedContactFilter(**conditions)  # type: ignore[arg-type]  # test kwargs
        return sorted(r.contact_id for r in (await index.page(query, limit=100)).rows)

    assert await ids(reasons=frozenset({ReasonFilter.BOUNCE_MAILBOX_FULL})) == ["g1"]
    assert await ids(reasons=frozenset({ReasonFilter.BOUNCE})) == ["g1", "g2"]
    assert await ids(reasons=frozenset({ReasonFilter.UNKNOWN})) == ["k1"]  # GetResponse is not asked
    assert await ids(reasons=frozenset({ReasonFilter.UNKNOWN, ReasonFilter.API})) == ["g3", "g4", "k1"]
    name = TextCondition(TextOperator.CONTAINS, "spring%")
    assert await ids(campaign_name=name) == ["g1", "g2", "g4"]
    assert await ids(campaign_name=name, campaign_ids=("c3",)) == ["g1", "g2", "g3", "g4"]
    assert await ids(campaign_ids=("c2",)) == ["g2"]
    welcome = TextCondition(TextOperator.CONTAINS, "welcome%")
    assert await ids(message_name=welcome) == ["g4"]  # m3 is an A/B test: not a default type
    assert await ids(message_name=welcome, message_ids=("m3",)) == ["g3", "g4"]
    assert await ids(message_name=TextCondition(TextOperator.NOT_EQUALS, "x")) == ["g4"]  # m4 has no name


async def test_superseded_deletions_hide_and_come_back(database: Database) -> None:
    index = DatabaseIndex(database, lookup_chunk=2)  # several IN lists per lookup
    gone = contact(GR, "g1", "Back@X.io", campaign_id="c1")
    other_campaign = contact(GR, "g2", "back@x.io", campaign_id="c2")
    await index.apply(GR, SyncBatch(deleted=[gone, other_campaign]))
    everything = DeletedContactFilter()
    await index.apply(GR, SyncBatch(active=[Membership("a1", "BACK@x.io", "c1")]))
    assert keys((await index.page(everything, limit=10)).rows) == [("getresponse", "g2")]
    assert await index.count(everything) == {GR: 1}
    assert await index.get([gone.key, other_campaign.key]) == [None, other_campaign]
    assert [len(found) for found in await index.by_email(["back@X.IO"])] == [1]
    assert (await index.states())[GR].contacts == 1
    # The member moves to the other campaign: the first deletion shows again, the second hides.
    await index.apply(GR, SyncBatch(active=[Membership("a1", "back@x.io", "c2")]))
    assert await index.get([gone.key, other_campaign.key]) == [gone, None]
    await assert_contacts_exact(index)
    # The member is deleted: no membership is left.  GetResponse lists one deletion per address and
    # campaign, the newest, so the new deletion in c2 replaces g2; g1 (c1) shows.
    again = contact(GR, "a1", "back@x.io", campaign_id="c2", deleted_on=DAY + timedelta(days=1))
    await index.apply(GR, SyncBatch(deleted=[again]))
    assert await index.get([gone.key, other_campaign.key, again.key]) == [gone, None, again]
    assert await index.count(everything) == {GR: 2}
    assert (await index.states())[GR].contacts == 2
    # A membership that a full run no longer sees goes too.
    await index.apply(GR, SyncBatch(active=[Membership("a9", "back@x.io", "c1")]))
    assert await index.count(everything) == {GR: 1}
    await assert_contacts_exact(index)
    await index.remove([gone.key])
    await assert_contacts_exact(index)
    await index.apply(GR, SyncBatch(deleted=[gone], not_deleted=["g2"]))
    await assert_contacts_exact(index)
    await index.apply(GR, SyncBatch(deleted=[other_campaign]))
    started = datetime.now(UTC)
    # A full read lists only the newest deletion of each address and campaign: a1, not g2, in c2.
    await index.apply(GR, SyncBatch(deleted=[gone, again]), full_run="r1")
    await index.finish_full_run(GR, "r1", started)
    assert await index.count(everything) == {GR: 2}
    assert await index.get([other_campaign.key]) == [None]
    await assert_contacts_exact(index)


async def test_apply_counts_and_contacts_stay_exact(database: Database) -> None:
    index = DatabaseIndex(database, lookup_chunk=2, analyze_after_rows=1)  # small IN lists; ANALYZE (PG)
    rows = [
        contact(CC, f"k{n}", f"p{n}@x.io", deleted_at=datetime(2026, 5, 1, n, tzinfo=UTC)) for n in range(6)
    ]
    first = await index.apply(CC, SyncBatch(deleted=rows[:5]))
    assert (first.inserted, first.updated, first.removed) == (5, 0, 0)
    again = await index.apply(CC, SyncBatch(deleted=rows[:5]))
    assert (again.inserted, again.updated, again.removed, again.changed) == (0, 0, 0, 0)
    renamed = contact(CC, "k1", "p1@x.io", name="Now Named", deleted_at=rows[1].deleted_at)
    mixed = await index.apply(CC, SyncBatch(deleted=[renamed, rows[5]], not_deleted=["k2", "k3", "nope"]))
    assert (mixed.inserted, mixed.updated, mixed.removed) == (1, 1, 2)
    assert (await index.get([renamed.key]))[0] == renamed
    assert (await index.states())[CC].contacts == 4 == (await index.count(DeletedContactFilter()))[CC]
    assert await index.remove([rows[0].key, ContactKey(CC, "nope")]) == 1
    assert (await index.states())[CC].contacts == 3
    found = await index.by_email(["P1@X.IO", "nobody@x.io", "p5@x.io"])
    assert found == [[renamed], [], [rows[5]]]


async def test_a_full_run_removes_what_it_did_not_see_but_keeps_newer_writes(database: Database) -> None:
    index = DatabaseIndex(database, lookup_chunk=2)  # several IN lists per lookup
    a, b, c, d = (contact(CC, n, f"{n}@x.io") for n in "abcd")
    await index.apply(CC, SyncBatch(deleted=[a, b, c]))
    started = datetime.now(UTC)
    await index.apply(CC, SyncBatch(deleted=[a]), full_run="r1")
    await index.apply(CC, SyncBatch(deleted=[b]), full_run="r1")
    await index.apply(CC, SyncBatch(deleted=[d]))  # a delta after the run began: newer than its read
    result = await index.finish_full_run(CC, "r1", started)
    assert result.removed == 1
    assert await index.get([a.key, b.key, c.key, d.key]) == [a, b, None, d]
    assert (await index.states())[CC].contacts == 3
    # The next run did not see d either, and d is now older than its start.
    started = datetime.now(UTC)
    await index.apply(CC, SyncBatch(deleted=[a, b]), full_run="r2")
    assert (await index.finish_full_run(CC, "r2", started)).removed == 1
    assert (await index.states())[CC].contacts == 2


async def test_state_round_trip(database: Database) -> None:
    index = DatabaseIndex(database)
    assert await index.states() == {}
    moment = datetime(2026, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)
    state = SyncState(
        GR, watermark=moment, backfilled_at=moment, synced_at=moment, last_error="boom", contacts=99
    )
    await index.save_state(state)
    # ``contacts`` is the store's own count (the caller's may be stale).
    assert await index.states() == {GR: SyncState(GR, moment, moment, None, moment, 0, "boom")}
    await index.apply(GR, SyncBatch(deleted=[contact(GR, "g", "g@x.io", campaign_id="c1")]))
    later = SyncState(GR, watermark=moment + timedelta(hours=1), reconciled_at=moment)
    await index.save_state(later)
    # The write counted the revision up (migration 0008); saving a state leaves it alone.
    assert (await index.states())[GR] == SyncState(
        GR, moment + timedelta(hours=1), None, moment, None, 1, None, revision=1
    )


async def test_migration_0005_goes_down_and_up(database: Database) -> None:
    down = await migrate(database, "downgrade", "0004")
    assert "deleted_contacts" not in down.tables and "sync_leases" not in down.tables
    up = await migrate(database, "upgrade", "head")
    assert {"deleted_contacts", "getresponse_memberships", "sync_state", "sync_leases"} <= up.tables
    index = DatabaseIndex(database)
    await index.apply(CC, SyncBatch(deleted=[contact(CC, "k", "k@x.io")]))
    assert (await index.count(DeletedContactFilter())) == {CC: 1}


async def test_contains_has_a_trigram_index_on_postgresql_only(database: Database) -> None:
    async with database.connect() as connection:
        if database.is_sqlite:
            found = await connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_deleted_contacts_email_key_trgm'"
            )
            assert "WHERE 0" in str(found.scalar_one())  # a stand-in that holds no row
        else:
            found = await connection.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_deleted_contacts_email_key_trgm'"
            )
            assert "gin (email_key gin_trgm_ops)" in str(found.scalar_one())


async def test_migration_0009_casefolds_the_keys_lower_cased_before(database: Database) -> None:
    index = DatabaseIndex(database)
    await index.apply(CC, SyncBatch(deleted=[contact(CC, "s", "STRAßE@x.io", name="Große Straße")]))
    await index.apply(GR, SyncBatch(deleted=[contact(GR, "t", "Tt@x.io", name="Ilhan Inan")]))
    await migrate(database, "downgrade", "0008")
    async with database.begin() as connection:  # as the code before 0009 wrote them
        await connection.exec_driver_sql(
            "UPDATE deleted_contacts SET email_key = 'straße@x.io', name_key = 'große straße' "
            "WHERE contact_id = 's'"
        )
    await migrate(database, "upgrade", "head")
    sharp = DeletedContactFilter(name=(TextCondition(TextOperator.CONTAINS, "%STRASSE%"),))
    assert [row.contact_id for row in (await index.page(sharp, limit=5)).rows] == ["s"]
    by_address = await index.by_email(["strasse@X.IO"])
    assert [row.contact_id for row in by_address[0]] == ["s"]
    plain = DeletedContactFilter(name=(TextCondition(TextOperator.EQUALS, "ILHAN INAN"),))
    assert [row.contact_id for row in (await index.page(plain, limit=5)).rows] == ["t"]
