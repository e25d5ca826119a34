"""Persisted-document stores (memory, Redis) and the trusted-documents manifest reader."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from gateway.core.persisted_documents import (
    MemoryPersistedDocuments,
    PersistedDocumentStore,
    RedisPersistedDocuments,
    document_hash,
    is_document_hash,
    load_manifest,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
QUERY = "{ providers { provider } }"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[PersistedDocumentStore]:
    if request.param == "memory":
        yield MemoryPersistedDocuments()
        return
    redis_store = RedisPersistedDocuments(REDIS_URL, ttl=60, prefix=f"test:{uuid.uuid4().hex}")
    yield redis_store
    await redis_store.aclose()


def test_the_hash_is_the_hex_sha256_of_the_utf8_text() -> None:
    assert document_hash("{ é }") == hashlib.sha256("{ é }".encode()).hexdigest()
    assert is_document_hash(document_hash(QUERY))
    assert not is_document_hash(document_hash(QUERY).upper())
    assert not is_document_hash(document_hash(QUERY)[:-1])


async def test_a_registered_document_is_found_by_its_hash(store: PersistedDocumentStore) -> None:
    assert await store.get(document_hash(QUERY)) is None
    await store.put(document_hash(QUERY), QUERY)
    await store.put(document_hash(QUERY), QUERY)  # a second registration changes nothing
    assert await store.get(document_hash(QUERY)) == QUERY
    assert await store.get(document_hash(QUERY + " ")) is None


async def test_memory_keeps_the_most_recently_used_documents() -> None:
    store = MemoryPersistedDocuments(max_entries=2)
    for text in ("{ a }", "{ b }"):
        await store.put(document_hash(text), text)
    assert await store.get(document_hash("{ a }")) == "{ a }"  # used: "{ b }" is now the oldest
    await store.put(document_hash("{ c }"), "{ c }")
    assert await store.get(document_hash("{ b }")) is None
    assert await store.get(document_hash("{ a }")) == "{ a }"
    assert await store.get(document_hash("{ c }")) == "{ c }"


def test_a_manifest_maps_hashes_to_documents(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    other = "query Other { providers { provider } }"
    manifest.write_bytes(orjson.dumps({document_hash(QUERY): QUERY, f"sha256:{document_hash(other)}": other}))
    assert load_manifest(manifest) == {document_hash(QUERY): QUERY, document_hash(other): other}


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        orjson.dumps({document_hash(QUERY): QUERY + " "}),
        orjson.dumps({"not-a-hash": QUERY}),
        orjson.dumps({document_hash(QUERY): 1}),
    ],
)
def test_a_manifest_that_is_not_hash_to_document_is_refused(tmp_path: Path, content: bytes) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(content)
    with pytest.raises(ValueError, match="TRUSTED_DOCUMENTS"):
        load_manifest(manifest)


def test_a_missing_manifest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TRUSTED_DOCUMENTS"):
        load_manifest(tmp_path / "absent.json")
