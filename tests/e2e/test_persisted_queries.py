"""Persisted queries and trusted documents over real sockets, with the emulators' request counts.

Apollo's automatic persisted queries: a hash alone is ``PERSISTED_QUERY_NOT_FOUND`` (200) until the
text is sent with it once; from then on the hash alone runs it, by POST or by GET.  A trusted manifest
lets only its documents run: anything else is refused before execution, so nothing goes upstream.
The real clients (Apollo Client, urql) are driven by node in ``test_real_clients_...``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from ..servers import ServerPool
from .conftest import Stack, StackFactory
from .test_replicas import REDIS_URL, two_replicas

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = ROOT / ".tools"
CLIENTS_SCRIPT = Path(__file__).with_name("persisted_query_clients.cjs")

QUERY = "query Count { deletedContacts(first: 5) { totalCount } }"
OTHER = "query Providers { providers { provider } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def upstream(stack: Stack) -> int:
    counts = await stack.counts()
    return int(counts["cc"]["http_requests"]) + int(counts["gr"]["http_requests"])


async def test_a_hash_is_not_found_then_registered_then_enough(stack: Stack) -> None:
    await stack.reset_counts()
    missing = await stack.gateway.post("/graphql", json={"extensions": persisted(QUERY)})
    assert missing.status_code == 200
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert codes(missing.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert await upstream(stack) == 0

    registered = await stack.gateway.post("/graphql", json={"query": QUERY, "extensions": persisted(QUERY)})
    assert registered.status_code == 200
    total = registered.json()["data"]["deletedContacts"]["totalCount"]
    assert total > 0

    by_post = await stack.gateway.post("/graphql", json={"extensions": persisted(QUERY)})
    assert by_post.json()["data"]["deletedContacts"]["totalCount"] == total
    by_get = await stack.gateway.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(QUERY))},
        headers={"accept": "application/json"},
    )
    assert by_get.status_code == 200
    assert by_get.json()["data"]["deletedContacts"]["totalCount"] == total
    by_document_id = await stack.gateway.post("/graphql", json={"documentId": f"sha256:{sha256(QUERY)}"})
    assert by_document_id.json()["data"]["deletedContacts"]["totalCount"] == total


async def test_a_text_that_is_not_its_hash_is_refused_and_not_registered(stack: Stack) -> None:
    await stack.reset_counts()
    lying = await stack.gateway.post("/graphql", json={"query": OTHER, "extensions": persisted(QUERY)})
    assert lying.status_code == 400
    assert codes(lying.json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    still_missing = await stack.gateway.post("/graphql", json={"extensions": persisted(QUERY)})
    assert codes(still_missing.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert await upstream(stack) == 0


async def test_registration_needs_a_credential(stack: Stack) -> None:
    async with stack.client() as anonymous:
        refused = await anonymous.post("/graphql", json={"query": QUERY, "extensions": persisted(QUERY)})
    assert refused.status_code == 401
    missing = await stack.gateway.post("/graphql", json={"extensions": persisted(QUERY)})
    assert codes(missing.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_with_persisted_queries_off_a_hash_alone_is_not_supported(make_stack: StackFactory) -> None:
    async with make_stack(persisted_queries=False) as stack:
        refused = await stack.gateway.post("/graphql", json={"extensions": persisted(QUERY)})
        assert refused.status_code == 200
        assert codes(refused.json()) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
        # A client told so sends texts (with their hash, which is then ignored): they run.
        plain = await stack.gateway.post("/graphql", json={"query": QUERY, "extensions": persisted(QUERY)})
        assert plain.json()["data"]["deletedContacts"]["totalCount"] > 0


async def test_only_the_manifests_documents_run(make_stack: StackFactory, tmp_path: Path) -> None:
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_bytes(orjson.dumps({sha256(QUERY): QUERY}))
    async with make_stack(trusted_documents=manifest) as stack:
        by_hash = await stack.gateway.post("/graphql", json={"extensions": persisted(QUERY)})
        assert by_hash.json()["data"]["deletedContacts"]["totalCount"] > 0
        by_text = await stack.graphql(QUERY)
        assert by_text["data"]["deletedContacts"]["totalCount"] > 0

        await stack.reset_counts()
        outside = await stack.gateway.post("/graphql", json={"query": QUERY.replace("5", "6")})
        assert outside.status_code == 400
        assert codes(outside.json()) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        unknown = await stack.gateway.post("/graphql", json={"extensions": persisted(OTHER)})
        assert codes(unknown.json()) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        registering = await stack.gateway.post(
            "/graphql", json={"query": OTHER, "extensions": persisted(OTHER)}
        )
        assert codes(registering.json()) == ["PERSISTED_QUERY_NOT_ALLOWED"]
        assert await upstream(stack) == 0


@pytest.mark.parametrize("where", ["database", "redis"])
def test_a_document_registered_through_one_replica_runs_by_hash_on_the_other(
    emulator_servers: ServerPool, where: str
) -> None:
    # A text of this test's own, so that a document left in Redis by an earlier run is not found.
    text = f"query Count_{uuid.uuid4().hex} {{ deletedContacts(first: 5) {{ totalCount }} }}"
    overrides: dict[str, Any] = {"persisted_queries_store": where}
    if where == "redis":
        overrides["redis_url"] = REDIS_URL
    with two_replicas(emulator_servers, **overrides) as (first, second):
        missing = second.post("/graphql", json={"extensions": persisted(text)})
        assert codes(missing.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
        registered = first.post("/graphql", json={"query": text, "extensions": persisted(text)})
        assert registered.json()["data"]["deletedContacts"]["totalCount"] > 0
        by_hash = second.post("/graphql", json={"extensions": persisted(text)})
        assert by_hash.json()["data"] == registered.json()["data"]
        if where == "redis":
            redis.Redis.from_url(REDIS_URL).delete(f"dcg:apq:{sha256(text)}")


def _node_and_clients() -> str:
    node = shutil.which("node")
    modules = TOOLS_DIR / "node_modules"
    installed = all(
        (modules / name / "package.json").is_file()
        for name in ("@apollo/client", "@urql/core", "@urql/exchange-persisted")
    )
    if node and installed:
        return node
    missing = "node" if not node else "Apollo Client / urql (run `bash scripts/setup.sh audit-tools`)"
    if os.environ.get("CI"):
        pytest.fail(f"{missing} is missing in CI")
    pytest.skip(f"{missing} is missing")


@pytest.mark.npm
async def test_real_clients_register_on_not_found_then_send_only_the_hash(stack: Stack) -> None:
    node = _node_and_clients()
    credential = stack.gateway.headers["authorization"].removeprefix("Bearer ")
    url = f"{stack.gateway.base_url}".rstrip("/") + "/graphql"
    completed = subprocess.run(
        [node, str(CLIENTS_SCRIPT), url, credential, str(TOOLS_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    # Between them the two clients cover both transports: Apollo's link POSTs, urql's exchange GETs.
    assert {exchange["method"] for exchange in report["apollo"]["exchanges"]} == {"POST"}
    assert {exchange["method"] for exchange in report["urql"]["exchanges"]} == {"GET"}
    for client in ("apollo", "urql"):
        exchanges = report[client]["exchanges"]
        first, registration, second = exchanges
        assert (first["sentQuery"], first["sentHash"], first["codes"]) == (
            False,
            True,
            ["PERSISTED_QUERY_NOT_FOUND"],
        ), client
        assert (registration["sentQuery"], registration["sentHash"], registration["codes"]) == (
            True,
            True,
            [],
        ), client
        assert (second["sentQuery"], second["sentHash"], second["codes"]) == (False, True, []), client
        results = report[client]["results"]
        assert results[0] == results[1] and results[0]["deletedContacts"]["totalCount"] > 0, client
