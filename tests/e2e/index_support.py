"""What the index's end-to-end tests share: a stack whose gateway keeps the index (on SQLite or on the
machine's PostgreSQL) with the sync run by the test itself, and changes made at the emulators through
their own APIs (never through the gateway)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from gateway.bootstrap import build_services, build_sync_worker, open_database
from gateway.config import Settings
from gateway.sync import SyncReport

from ..databases import fresh_database_url
from .conftest import CC_TOKEN, GR_KEY, Stack, StackFactory

__all__ = [
    "CONTACT_FIELDS",
    "IndexStack",
    "cc_delete",
    "cc_revive",
    "gr_delete",
    "gr_revive",
    "index_stack",
    "sync_once",
    "synced_index_stack",
    "walk",
]

CONTACT_FIELDS = """
    id provider contactId email name createdAt deletedOn deletedAt reason restorable restoreBlockedBy raw
    ... on GetResponseDeletedContact { campaignId messageId origin ip cycleDay }
"""


async def sync_once(settings: Settings) -> list[SyncReport]:
    """One sync pass, as ``gateway sync --once`` makes it (this process leads for the pass)."""
    database = await open_database(settings)
    try:
        services = build_services(settings, database=database)
        try:
            worker = build_sync_worker(settings, services, database)
            assert worker is not None
            reports = await worker.run_once()
            assert reports is not None, "another process leads the sync"
            await worker.leadership.release()
            return reports
        finally:
            await services.aclose()
    finally:
        await database.aclose()


class IndexStack:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    async def sync(self) -> list[SyncReport]:
        return await sync_once(self.stack.settings)

    async def page(
        self, arguments: str, variables: dict[str, Any] | None = None, *, fields: str = "id"
    ) -> dict[str, Any]:
        declared = {"$filter": "DeletedContactFilterInput", "$after": "String", "$before": "String"}
        used = ", ".join(f"{name}: {kind}" for name, kind in declared.items() if name in arguments)
        body = await self.stack.graphql(
            f"""query{f"({used})" if used else ""} {{
                deletedContacts({arguments}) {{
                    edges {{ cursor node {{ {fields} }} }}
                    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
                    totalCount warnings
                    sources {{ provider ok status count syncedAt lagSeconds }}
                }}
            }}""",
            variables or {},
        )
        assert "errors" not in body, body
        connection: dict[str, Any] = body["data"]["deletedContacts"]
        return connection


async def walk(
    index: IndexStack,
    consistency: str,
    size: int,
    *,
    filter: dict[str, Any] | None = None,
    fields: str = "id",
) -> list[dict[str, Any]]:
    """Every contact of a query, page by page, forward."""
    nodes: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        page = await index.page(
            f"first: {size}, after: $after, filter: $filter, consistency: {consistency}",
            {"after": after, "filter": filter},
            fields=fields,
        )
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


@contextlib.asynccontextmanager
async def index_stack(
    make_stack: StackFactory, backend: str, directory: Path, **overrides: Any
) -> AsyncIterator[IndexStack]:
    """A stack whose gateway keeps the index in a fresh database; the test runs the sync."""
    async with (
        fresh_database_url(backend, directory) as url,
        make_stack(index=True, sync_in_process=False, database_url=SecretStr(url), **overrides) as stack,
    ):
        yield IndexStack(stack)


@contextlib.asynccontextmanager
async def synced_index_stack(
    make_stack: StackFactory, backend: str, directory: Path, **overrides: Any
) -> AsyncIterator[IndexStack]:
    """:func:`index_stack` after its first sync (the backfill): pages come from the index."""
    async with index_stack(make_stack, backend, directory, **overrides) as index:
        await index.sync()
        yield index


_CC_AUTH = {"authorization": f"Bearer {CC_TOKEN}"}


async def cc_delete(stack: Stack, contact_id: str) -> None:
    response = await stack.cc.delete(f"/v3/contacts/{contact_id}", headers=_CC_AUTH)
    assert response.status_code == 204, response.text


async def cc_revive(stack: Stack, contact: dict[str, Any], list_id: str) -> None:
    """Constant Contact's restore: a PUT that puts a deleted contact back on a list."""
    body = {
        "email_address": {"address": contact["email_address"]["address"]},
        "update_source": "Account",
        "list_memberships": [list_id],
    }
    response = await stack.cc.put(f"/v3/contacts/{contact['contact_id']}", json=body, headers=_CC_AUTH)
    assert response.status_code == 200, response.text


async def _rpc(stack: Stack, method: str, params: dict[str, Any]) -> Any:
    reply = await stack.gr.post(
        "/", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": [GR_KEY, params]}
    )
    body = reply.json()
    assert "error" not in body or body["error"] is None, body
    return body["result"]


async def gr_delete(stack: Stack, contact_id: str) -> None:
    await _rpc(stack, "delete_contact", {"contact": contact_id})


async def gr_revive(stack: Stack, email: str, campaign_id: str) -> None:
    """GetResponse has no restore: the address is added again (queued, confirmed once the emulator's
    clock passes its confirmation time, which this moves past)."""
    await _rpc(stack, "add_contact", {"campaign": campaign_id, "email": email})
    response = await stack.gr.post("/_emulator/clock", json={"advance_seconds": 31})
    assert response.status_code == 200, response.text
