"""Which document a request runs (``gateway.http.documents``): the automatic persisted queries
protocol, APQ switched off, and trusted-documents mode; each refusal with its status and code."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.persisted_documents import MemoryPersistedDocuments, document_hash
from gateway.errors import DatabaseError
from gateway.http.documents import DocumentResolver
from gateway.http.params import GraphQLParams, params_from_body
from gateway.http.rejections import RequestRejected

QUERY = "query Count { deletedContacts(first: 5) { totalCount } }"
OTHER = "{ providers { provider } }"


def hashed(text: str, query: str | None = None, **persisted: Any) -> GraphQLParams:
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(text), **persisted}}
    return GraphQLParams(query, extensions=extensions)


def apq(store: MemoryPersistedDocuments, *, max_document_bytes: int = 10_000) -> DocumentResolver:
    return DocumentResolver(store=lambda: store, max_document_bytes=max_document_bytes, max_query_tokens=100)


async def refusal(resolver: DocumentResolver, params: GraphQLParams) -> tuple[int, str]:
    with pytest.raises(RequestRejected) as refused:
        await resolver.document(params)
    return refused.value.status_code, refused.value.code


async def test_a_plain_query_runs_as_sent() -> None:
    assert await apq(MemoryPersistedDocuments()).document(GraphQLParams(QUERY)) == QUERY


async def test_an_unknown_hash_is_not_found_until_its_text_registers_it() -> None:
    store = MemoryPersistedDocuments()
    resolver = apq(store)
    assert await refusal(resolver, hashed(QUERY)) == (200, "PERSISTED_QUERY_NOT_FOUND")
    assert await resolver.document(hashed(QUERY, QUERY)) == QUERY
    assert await resolver.document(hashed(QUERY)) == QUERY
    uppercase = {"persistedQuery": {"version": 1, "sha256Hash": document_hash(QUERY).upper()}}
    assert await resolver.document(GraphQLParams(None, extensions=uppercase)) == QUERY
    assert await resolver.document(GraphQLParams(None, document_id=f"sha256:{document_hash(QUERY)}")) == QUERY


async def test_a_text_with_another_texts_hash_is_refused_and_not_registered() -> None:
    store = MemoryPersistedDocuments()
    resolver = apq(store)
    assert await refusal(resolver, hashed(QUERY, OTHER)) == (400, "PERSISTED_QUERY_HASH_MISMATCH")
    assert await store.get(document_hash(QUERY)) is None


async def test_texts_that_could_never_run_are_not_registered() -> None:
    store = MemoryPersistedDocuments()
    broken = "{ providers { provider }"
    assert await apq(store).document(hashed(broken, broken)) == broken  # runs, and fails there
    too_many_tokens = "{ " + "a " * 200 + "}"
    assert await apq(store).document(hashed(too_many_tokens, too_many_tokens)) == too_many_tokens
    assert await apq(store, max_document_bytes=10).document(hashed(QUERY, QUERY)) == QUERY
    for text in (broken, too_many_tokens, QUERY):
        assert await store.get(document_hash(text)) is None


@pytest.mark.parametrize(
    "persisted",
    [
        {"version": 2, "sha256Hash": document_hash(QUERY)},
        {"sha256Hash": document_hash(QUERY)},
        {"version": 1, "sha256Hash": "abc"},
        {"version": 1, "sha256Hash": 12},
        {"version": 1},
        "a string",
    ],
)
async def test_a_malformed_persisted_query_is_a_bad_request(persisted: object) -> None:
    params = GraphQLParams(None, extensions={"persistedQuery": persisted})
    assert await refusal(apq(MemoryPersistedDocuments()), params) == (400, "BAD_REQUEST")


async def test_a_malformed_document_id_is_a_bad_request() -> None:
    params = GraphQLParams(None, document_id="sha256:nope")
    assert await refusal(apq(MemoryPersistedDocuments()), params) == (400, "BAD_REQUEST")


async def test_with_apq_off_a_hash_alone_is_not_supported_and_a_text_runs() -> None:
    resolver = DocumentResolver(store=None, max_document_bytes=10_000, max_query_tokens=100)
    assert await refusal(resolver, hashed(QUERY)) == (200, "PERSISTED_QUERY_NOT_SUPPORTED")
    assert await resolver.document(hashed(QUERY, QUERY)) == QUERY


async def test_an_unavailable_store_is_a_typed_refusal() -> None:
    class Unavailable(MemoryPersistedDocuments):
        async def get(self, sha256: str) -> str | None:
            raise DatabaseError("the gateway's database is unavailable; try again shortly")

    assert await refusal(apq(Unavailable()), hashed(QUERY)) == (503, "DATABASE_ERROR")


async def test_trusted_mode_runs_only_listed_documents_and_registers_nothing() -> None:
    store = MemoryPersistedDocuments()
    resolver = DocumentResolver(
        store=lambda: store,
        trusted={document_hash(QUERY): QUERY},
        max_document_bytes=10_000,
        max_query_tokens=100,
    )
    assert await resolver.document(hashed(QUERY)) == QUERY
    assert await resolver.document(GraphQLParams(QUERY)) == QUERY
    assert await resolver.document(hashed(QUERY, QUERY)) == QUERY
    assert await refusal(resolver, GraphQLParams(OTHER)) == (400, "PERSISTED_QUERY_NOT_ALLOWED")
    assert await refusal(resolver, hashed(OTHER)) == (400, "PERSISTED_QUERY_NOT_ALLOWED")
    assert await refusal(resolver, hashed(OTHER, OTHER)) == (400, "PERSISTED_QUERY_NOT_ALLOWED")
    assert await refusal(resolver, hashed(QUERY, OTHER)) == (400, "PERSISTED_QUERY_HASH_MISMATCH")
    assert await store.get(document_hash(OTHER)) is None


def test_params_without_a_query_must_name_a_persisted_document() -> None:
    with pytest.raises(RequestRejected) as refused:
        params_from_body(b'{"extensions": {}}')
    assert refused.value.message == "The query parameter is missing."
    named = params_from_body(b'{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "x"}}}')
    assert named.query is None and named.persisted == {"version": 1, "sha256Hash": "x"}
    assert params_from_body(b'{"documentId": "sha256:abc"}').document_id == "sha256:abc"
    with pytest.raises(RequestRejected):
        params_from_body(b'{"documentId": 5}')
