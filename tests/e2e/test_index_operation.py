"""Operating the index: before its first backfill, the gateway's own writes, the live path's cap, the
``gateway sync`` command and several replicas with one sync leader."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from pydantic import SecretStr

from gateway.bootstrap import build_services, build_sync_worker, open_database
from gateway.sync import SyncKind

from ..databases import fresh_database_url
from .conftest import StackFactory
from .index_support import cc_delete, index_stack, walk
from .processes import settings_environment

DELETE = """mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) { results { index provider contactId status code } } }"""
RESTORE = """mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) { results { index provider contactId status code } } }"""


async def test_before_its_backfill_the_index_answers_live_or_says_it_is_not_ready(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        body = await index.stack.graphql("{ deletedContacts(first: 3, consistency: INDEXED) { totalCount } }")
        assert body["errors"][0]["extensions"]["code"] == "INDEX_NOT_READY"
        page = await index.page("first: 3")
        assert page["warnings"] and "still being built" in page["warnings"][0]
        assert all(source["syncedAt"] is None for source in page["sources"])
        await index.sync()
        page = await index.page("first: 3")
        assert page["warnings"] == [] and all(s["syncedAt"] for s in page["sources"])


async def test_the_gateways_own_deletes_and_restores_are_written_through(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        stack = index.stack
        await index.sync()
        truth = await stack.ground_truth()
        active = next(c for c in truth["cc"]["contacts"].values() if c["status"] != "deleted")
        body = await stack.graphql(
            DELETE,
            {"input": {"contacts": [{"provider": "CONSTANT_CONTACT", "contactId": active["contact_id"]}]}},
        )
        assert body["data"]["deleteContacts"]["results"][0]["status"] == "DONE", body
        # No sync ran: the index learnt it from the mutation itself.
        ids = [n["contactId"] for n in await walk(index, "INDEXED", 500, fields="contactId")]
        assert active["contact_id"] in ids
        list_id = next(iter(truth["cc"]["lists"]))
        body = await stack.graphql(
            RESTORE,
            {
                "input": {
                    "contacts": [{"provider": "CONSTANT_CONTACT", "contactId": active["contact_id"]}],
                    "constantContactListIds": [list_id],
                }
            },
        )
        assert body["data"]["restoreContacts"]["results"][0]["status"] == "DONE", body
        ids = [n["contactId"] for n in await walk(index, "INDEXED", 500, fields="contactId")]
        assert active["contact_id"] not in ids
        assert [n["contactId"] for n in await walk(index, "LIVE", 500, fields="contactId")] == ids


async def test_a_live_listing_past_its_cap_is_refused_rather_than_truncated(make_stack: StackFactory) -> None:
    async with make_stack(snapshot_max_entries=50) as stack:
        body = await stack.graphql("{ deletedContacts(first: 5) { totalCount edges { cursor } } }")
        assert body["data"]["deletedContacts"] is None
        error = body["errors"][0]
        assert error["extensions"]["code"] == "LISTING_TOO_LARGE"
        assert "consistency: INDEXED" in error["message"]
        narrow = await stack.graphql(
            '{ deletedContacts(first: 5, filter: {email: [{operator: EQUALS, value: "nobody@example.com"}]}) '
            "{ totalCount } }"
        )
        assert "errors" not in narrow, narrow


async def test_cursors_are_checked(make_stack: StackFactory, tmp_path: Path) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        await index.sync()
        page = await index.page("first: 2")
        cursor = page["pageInfo"]["endCursor"]
        other = await index.stack.graphql(
            "query($after: String) { deletedContacts(first: 2, after: $after, "
            "filter: {providers: [GETRESPONSE]}) { totalCount } }",
            {"after": cursor},
        )
        assert other["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
        for bad in ("azE6W10", "not a cursor", cursor[:-3]):
            body = await index.stack.graphql(
                "query($after: String) { deletedContacts(first: 2, after: $after) { totalCount } }",
                {"after": bad},
            )
            assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR", (bad, body)
        both = await index.stack.graphql("{ deletedContacts(first: 2, last: 2) { totalCount } }")
        assert both["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        nodes = await index.stack.graphql(
            "{ deletedContacts(first: 3) { nodes { id } edges { node { id } } } }"
        )
        connection = nodes["data"]["deletedContacts"]
        assert connection["nodes"] == [edge["node"] for edge in connection["edges"]]


async def test_gateway_sync_once_backfills_then_runs_deltas(make_stack: StackFactory, tmp_path: Path) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        environment = {**os.environ, **settings_environment(index.stack.settings)}
        command = [sys.executable, "-m", "gateway.cli", "sync", "--once"]
        first = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        assert "constant_contact backfill" in first.stdout and "getresponse backfill" in first.stdout
        truth = await index.stack.ground_truth()
        active = next(c for c in truth["cc"]["contacts"].values() if c["status"] != "deleted")
        await cc_delete(index.stack, active["contact_id"])
        second = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        assert "constant_contact delta" in second.stdout and "1 inserted" in second.stdout
        assert "secret" not in (second.stdout + second.stderr).lower()
        ids = [n["contactId"] for n in await walk(index, "INDEXED", 500, fields="contactId")]
        assert active["contact_id"] in ids


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_one_replica_leads_the_sync_and_another_takes_over_when_it_stops(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with (
        fresh_database_url(backend, tmp_path) as url,
        make_stack(
            index=True, sync_in_process=False, database_url=SecretStr(url), sync_lease_seconds=1.0
        ) as stack,
    ):
        settings = stack.settings
        databases = [await open_database(settings) for _ in range(2)]
        services = [build_services(settings, database=database) for database in databases]
        workers = [build_sync_worker(settings, s, d) for s, d in zip(services, databases, strict=True)]
        try:
            leader, follower = workers
            assert leader is not None and follower is not None
            reports = await leader.run_once()
            assert reports is not None and {r.kind for r in reports} == {SyncKind.BACKFILL}
            assert await follower.run_once() is None, "two replicas synced at once"
            # The leader's process dies: on PostgreSQL the server sees its session end (as the
            # leader's connection is cut here), on SQLite its lease runs out.
            if backend == "postgresql":
                admin = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
                try:
                    # With a timeout the call returns once the session has ended (its locks freed),
                    # not as soon as it was signalled: the follower must not race the exit.
                    cut = await admin.fetchval(
                        "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_locks"
                        " WHERE locktype = 'advisory'"
                    )
                finally:
                    await admin.close()
                assert cut == 1
            else:
                await asyncio.sleep(1.2)
            taken_over = await follower.run_once()
            assert taken_over is not None and {r.kind for r in taken_over} == {SyncKind.DELTA}
            assert await leader.run_once() is None, "the stopped leader went on syncing"
        finally:
            for worker in workers:
                if worker is not None:
                    await worker.leadership.release()
            for service in services:
                await service.aclose()
            for database in databases:
                await database.aclose()
