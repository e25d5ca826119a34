"""The synced index end to end, over real sockets, on SQLite and on PostgreSQL: the sync reads the
emulators, pages come from the index with no upstream request, and they answer what the live path
answers (changes are made at the emulators through their own APIs, between syncs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.sync import SyncKind

from .conftest import StackFactory
from .index_support import (
    CONTACT_FIELDS,
    cc_delete,
    cc_revive,
    gr_delete,
    gr_revive,
    index_stack,
    walk,
)

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])


async def test_index_answers_exactly_what_the_live_path_answers(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with index_stack(make_stack, backend, tmp_path) as index:
        reports = await index.sync()
        assert {r.kind for r in reports} == {SyncKind.BACKFILL}
        live = await walk(index, "LIVE", 200, fields=CONTACT_FIELDS)
        await index.stack.reset_counts()
        indexed = await walk(index, "INDEXED", 37, fields=CONTACT_FIELDS)
        assert indexed == live
        assert len({node["id"] for node in indexed}) == len(indexed) > 300
        counts = await index.stack.counts()
        assert counts["cc"]["http_requests"] == 0 and counts["gr"]["http_requests"] == 0


async def test_backward_paging_mirrors_forward_paging(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with index_stack(make_stack, backend, tmp_path) as index:
        await index.sync()
        for consistency in ("INDEXED", "LIVE"):
            forward = [node["id"] for node in await walk(index, consistency, 50)]
            backward: list[str] = []
            page = await index.page(f"last: 23, consistency: {consistency}")
            assert page["pageInfo"]["hasNextPage"] is False
            while True:
                backward = [edge["node"]["id"] for edge in page["edges"]] + backward
                if not page["pageInfo"]["hasPreviousPage"]:
                    break
                page = await index.page(
                    "last: 23, before: $before", {"before": page["pageInfo"]["startCursor"]}
                )
            assert backward == forward, consistency
            # A page's startCursor pages back to exactly what came before it.
            first = await index.page(f"first: 10, consistency: {consistency}")
            second = await index.page("first: 10, after: $after", {"after": first["pageInfo"]["endCursor"]})
            before = await index.page(
                "last: 10, before: $before", {"before": second["pageInfo"]["startCursor"]}
            )
            assert [e["node"]["id"] for e in before["edges"]] == forward[:10], consistency


async def test_paging_under_change_sees_every_steady_contact_once(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with index_stack(make_stack, backend, tmp_path) as index:
        stack = index.stack
        await index.sync()
        before = {node["id"] for node in await walk(index, "INDEXED", 500)}
        truth = await stack.ground_truth()
        active_cc = [c for c in truth["cc"]["contacts"].values() if c["status"] != "deleted"]
        deleted_cc = [c for c in truth["cc"]["contacts"].values() if c["status"] == "deleted"]
        list_id = next(iter(truth["cc"]["lists"]))
        active_gr = list(truth["gr"]["contacts"])
        seen: list[str] = []
        after: str | None = None
        step = 0
        while True:
            page = await index.page("first: 40, after: $after", {"after": after})
            seen += [edge["node"]["id"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
            # Between pages: new deletions at both providers, a Constant Contact revival, then a sync.
            await cc_delete(stack, active_cc[step]["contact_id"])
            await gr_delete(stack, active_gr[step])
            await cc_revive(stack, deleted_cc[step], list_id)
            await index.sync()
            step += 1
        after_change = {node["id"] for node in await walk(index, "INDEXED", 500)}
        assert len(seen) == len(set(seen)), "a contact was listed twice"
        steady = before & after_change
        assert steady - set(seen) == set(), "a contact deleted throughout was skipped"
        assert step >= 3
        # And the index now answers what the providers answer.
        assert [n["id"] for n in await walk(index, "LIVE", 500)] == [
            n["id"] for n in await walk(index, "INDEXED", 500)
        ]


async def test_a_delta_reads_only_what_changed_and_a_new_process_resumes_from_the_watermark(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with index_stack(make_stack, backend, tmp_path) as index:
        stack = index.stack
        await index.sync()
        truth = await stack.ground_truth()
        active_cc = [c for c in truth["cc"]["contacts"].values() if c["status"] != "deleted"][:4]
        active_gr = list(truth["gr"]["contacts"])[:4]
        for contact in active_cc:
            await cc_delete(stack, contact["contact_id"])
        for contact_id in active_gr:
            await gr_delete(stack, contact_id)
        await stack.reset_counts()
        # sync_once opens the database anew: a restarted process, which reads the saved watermark.
        reports = {r.provider.value: r for r in await index.sync()}
        assert {r.kind for r in reports.values()} == {SyncKind.DELTA}
        counts = await stack.counts()
        assert counts["cc"]["http_requests"] == reports["constant_contact"].requests <= 3
        assert counts["gr"]["http_requests"] == reports["getresponse"].requests == 1
        assert reports["constant_contact"].changes.inserted == 4
        assert reports["getresponse"].changes.inserted == 4
        ids = {n["id"] for n in await walk(index, "INDEXED", 500)}
        assert ids == {n["id"] for n in await walk(index, "LIVE", 500)}


async def test_getresponse_revival_supersedes_its_deletion(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with index_stack(make_stack, backend, tmp_path) as index:
        stack = index.stack
        await index.sync()
        truth = await stack.ground_truth()
        active = {(c["email"].lower(), c["campaign"]) for c in truth["gr"]["contacts"].values()}
        deletion = next(
            d for d in truth["gr"]["deleted"] if (d["email"].lower(), d["campaign"]) not in active
        )
        gr_filter = {
            "providers": ["GETRESPONSE"],
            "email": [{"operator": "EQUALS", "value": deletion["email"]}],
        }
        found = await walk(index, "INDEXED", 50, filter=gr_filter, fields="contactId")
        assert deletion["contact_id"] in {n["contactId"] for n in found}
        await gr_revive(stack, deletion["email"], deletion["campaign"])
        await index.sync()
        indexed = await walk(index, "INDEXED", 50, filter=gr_filter, fields="contactId")
        live = await walk(index, "LIVE", 50, filter=gr_filter, fields="contactId")
        assert deletion["contact_id"] not in {n["contactId"] for n in indexed}
        assert indexed == live


async def test_sources_say_how_fresh_the_index_is(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with index_stack(make_stack, backend, tmp_path) as index:
        await index.sync()
        indexed = await index.page("first: 5, consistency: INDEXED")
        live = await index.page("first: 5, consistency: LIVE")
        for source in indexed["sources"]:
            assert source["ok"] and source["syncedAt"] is not None and 0 <= source["lagSeconds"] < 120
        assert all(s["syncedAt"] is None and s["lagSeconds"] is None for s in live["sources"])
        assert indexed["totalCount"] == live["totalCount"] == sum(s["count"] for s in indexed["sources"])


async def test_lookups_by_id_and_address_read_the_index_once_it_is_built(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with index_stack(make_stack, backend, tmp_path) as index:
        stack = index.stack
        sample = await walk(index, "LIVE", 500, fields="id email")
        ids = [node["id"] for node in sample[::25]]
        emails = sorted({node["email"].upper() for node in sample[::30]})
        query = """query($ids: [ID!]!, $emails: [String!]!) {
            nodes(ids: $ids) { id ... on DeletedContact { email deletedOn reason } }
            deletedContactsByEmail(emails: $emails) { email suppressedBy deletedContacts { id deletedAt } }
        }"""
        variables = {"ids": ids, "emails": emails}
        live = await stack.graphql(query, variables)  # before the backfill: the providers answer
        await index.sync()
        await stack.reset_counts()
        indexed = await stack.graphql(query, variables)
        assert "errors" not in indexed and indexed == live
        counts = await stack.counts()
        assert counts["cc"]["http_requests"] == 0 and counts["gr"]["http_requests"] == 0
