"""Reused answers (``ANSWER_CACHE``) end to end, over real sockets, on SQLite and PostgreSQL.

Two paths compared: the stack's gateway reuses answers, a second gateway on the same database and
emulators has the cache off; every answer of the first must equal the second's, before and after
changes at the providers (then a sync) and through the gateway's own mutations (write-through).
Then what must never be reused (clock-dependent fields, live answers, another principal's scopes) and
what a reused answer still costs (the caller's budget)."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.config import Settings
from gateway.observability.logs import configure_logging
from gateway.serving import BackgroundServer

from .conftest import Stack, StackFactory
from .index_support import cc_delete, gr_delete, index_stack, synced_index_stack, walk

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])

PAGE = """query Page($first: Int!, $after: String, $filter: DeletedContactFilterInput) {
  deletedContacts(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id provider contactId email name deletedOn deletedAt reason raw } }
    sources { provider ok status count syncedAt fetchedAt }
  }
}"""
LOOKUPS = """query Lookups($emails: [String!]!, $ids: [ID!]!) {
  deletedContactsByEmail(emails: $emails) { email suppressedBy deletedContacts { id deletedAt reason } }
  nodes(ids: $ids) { id ... on DeletedContact { email deletedOn } }
}"""
DELETE = """mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) { results { status code } } }"""

Ask = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@contextlib.asynccontextmanager
async def plain_gateway(stack: Stack) -> AsyncIterator[Ask]:
    """A second gateway on the stack's database and emulators with the answer cache off, asked with
    the stack's own credential."""
    settings = stack.settings.model_copy(update={"answer_cache": False, "sync_in_process": False})
    with BackgroundServer(create_app(settings)) as server:
        headers = {"authorization": stack.gateway.headers["authorization"]}
        async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=headers) as client:

            async def ask(query: str, variables: dict[str, Any]) -> dict[str, Any]:
                response = await client.post("/graphql", json={"query": query, "variables": variables})
                assert response.status_code == 200, response.text
                body: dict[str, Any] = response.json()
                return body

            yield ask


def total(answer: dict[str, Any]) -> int:
    count: int = answer["data"]["deletedContacts"]["totalCount"]
    return count


async def reuse_counts(stack: Stack) -> dict[str, float]:
    response = await stack.gateway.get("/metrics")
    assert response.status_code == 200, response.text
    counts = {"hit": 0.0, "miss": 0.0}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "gateway_answer_cache_lookups_total":
                counts[sample.labels["outcome"]] = sample.value
    return counts


async def test_reused_answers_equal_the_plain_gateways_through_every_change(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    # State TTL 0 for the plain gateway's sake: its totalCount and syncedAt come from the sync state
    # it last read, which may otherwise be a second older than the sync the test just ran.
    async with (
        index_stack(make_stack, backend, tmp_path, index_state_ttl_seconds=0) as index,
        plain_gateway(index.stack) as plain,
    ):
        stack = index.stack
        await index.sync()
        sample = await walk(index, "INDEXED", 500, fields="id email")
        asked = [
            (PAGE, {"first": 25}),
            (PAGE, {"first": 25, "filter": {"providers": ["GETRESPONSE"], "reasons": ["UNSUBSCRIBE"]}}),
            (LOOKUPS, {"emails": [n["email"] for n in sample[::40]], "ids": [n["id"] for n in sample[::45]]}),
        ]

        async def round_of_answers() -> list[dict[str, Any]]:
            answers = []
            for query, variables in asked:
                first, again, expected = (
                    await stack.graphql(query, variables),
                    await stack.graphql(query, variables),
                    await plain(query, variables),
                )
                assert "errors" not in expected, expected
                assert first == again == expected
                answers.append(expected)
            return answers

        await stack.reset_counts()
        before = await reuse_counts(stack)
        first_round = await round_of_answers()
        after = await reuse_counts(stack)
        assert after["hit"] - before["hit"] == len(asked)
        assert after["miss"] - before["miss"] == len(asked)
        counts = await stack.counts()
        assert counts["cc"]["http_requests"] == 0 and counts["gr"]["http_requests"] == 0

        # Changes at both providers through their own APIs, then a sync by another process.
        truth = await stack.ground_truth()
        active_cc = [c for c in truth["cc"]["contacts"].values() if c["status"] != "deleted"]
        await cc_delete(stack, active_cc[0]["contact_id"])
        await gr_delete(stack, next(iter(truth["gr"]["contacts"])))
        await index.sync()
        second_round = await round_of_answers()
        assert total(second_round[0]) == total(first_round[0]) + 2, "both new deletions should count"

        # The gateway's own delete, written through before it answers: seen at once.
        body = await stack.graphql(
            DELETE,
            {
                "input": {
                    "contacts": [{"provider": "CONSTANT_CONTACT", "contactId": active_cc[1]["contact_id"]}]
                }
            },
        )
        assert body["data"]["deleteContacts"]["results"][0]["status"] == "DONE", body
        third_round = await round_of_answers()
        assert total(third_round[0]) == total(second_round[0]) + 1


async def test_what_changes_with_the_clock_or_reads_the_providers_is_never_reused(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with synced_index_stack(make_stack, backend, tmp_path) as index:
        stack = index.stack
        not_reusable = [
            "{ deletedContacts(first: 3) { sources { provider lagSeconds } } }",
            "{ deletedContacts(first: 3) { sources { provider ageSeconds } } }",
            "{ deletedContacts(first: 3) { nodes { id } } providers { provider configured } }",
        ]
        before = await reuse_counts(stack)
        for query in not_reusable:
            for _ in range(2):
                assert "errors" not in await stack.graphql(query)
        # Asked with consistency LIVE: the providers answer each time, and nothing is kept.
        live = "{ deletedContacts(first: 3, consistency: LIVE) { nodes { id } } }"
        for _ in range(2):
            await stack.reset_counts()
            assert "errors" not in await stack.graphql(live)
            counts = await stack.counts()
            assert counts["cc"]["http_requests"] > 0 and counts["gr"]["http_requests"] > 0
        after = await reuse_counts(stack)
        assert after["hit"] == before["hit"]
        # The live query was looked up (it could have been indexed) but never stored: two misses.
        assert after["miss"] - before["miss"] == 2


async def test_a_reused_answer_keeps_to_the_callers_scopes_and_budget(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with synced_index_stack(make_stack, backend, tmp_path) as index:
        stack = index.stack
        raw_page = "{ deletedContacts(first: 5) { nodes { id raw } } }"
        with_raw = await stack.graphql(raw_page)  # every scope: kept for reuse
        assert "errors" not in with_raw and all(
            n["raw"] is not None for n in with_raw["data"]["deletedContacts"]["nodes"]
        )
        async with stack.client(await stack.key("contacts:read")) as reader:
            for _ in range(2):
                body = (await reader.post("/graphql", json={"query": raw_page})).json()
                assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
                assert body["errors"][0]["extensions"]["scope"] == "contacts:read:raw"
        assert await stack.graphql(raw_page) == with_raw

        limited = await stack.named_key("three-a-minute", "contacts:read", requests_per_minute=3)
        page = "{ deletedContacts(first: 5) { nodes { id } } }"
        async with stack.client(limited.credential) as client:
            answers = [(await client.post("/graphql", json={"query": page})).json() for _ in range(4)]
        assert all("errors" not in answer for answer in answers[:3])
        assert answers[3]["errors"][0]["extensions"]["code"] == "RATE_LIMITED", answers[3]


async def test_a_reused_answer_follows_another_processs_sync_at_once_whatever_the_state_ttl(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    # A long state TTL: readiness and lagSeconds may be that old, a reused answer never is (the sync
    # state is read afresh for each query that could reuse one).
    async with synced_index_stack(make_stack, backend, tmp_path, index_state_ttl_seconds=600) as index:
        stack = index.stack
        variables = {"first": 10}
        first = await stack.graphql(PAGE, variables)
        assert await stack.graphql(PAGE, variables) == first  # reused
        truth = await stack.ground_truth()
        active_cc = [c for c in truth["cc"]["contacts"].values() if c["status"] != "deleted"]
        await cc_delete(stack, active_cc[0]["contact_id"])
        await index.sync()  # another process
        assert total(await stack.graphql(PAGE, variables)) == total(first) + 1
        target = {"provider": "CONSTANT_CONTACT", "contactId": active_cc[1]["contact_id"]}
        body = await stack.graphql(DELETE, {"input": {"contacts": [target]}})
        assert body["data"]["deleteContacts"]["results"][0]["status"] == "DONE", body
        assert total(await stack.graphql(PAGE, variables)) == total(first) + 2


async def test_the_access_log_says_which_answers_were_reused(
    make_stack: StackFactory, backend: str, tmp_path: Path, captured: io.StringIO
) -> None:
    async with synced_index_stack(make_stack, backend, tmp_path) as index:
        configure_logging(Settings(log_format="json", log_level="INFO"), stream=captured)
        query = "query Twice { deletedContacts(first: 5) { nodes { id } } }"
        assert await index.stack.graphql(query) == await index.stack.graphql(query)
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "gateway.access" and line["operation"] == "Twice"]
    assert [line["answer_reused"] for line in access] == [False, True]
