"""Which document a request runs: its ``query`` text, a persisted document named by hash, or nothing.

Three modes, decided by the settings (README, "Persisted queries and trusted documents"):

- **Automatic persisted queries** (``PERSISTED_QUERIES=true``, the default), Apollo's protocol: a
  request with ``extensions.persistedQuery = {version: 1, sha256Hash}`` and no ``query`` runs the
  document registered under that hash, or is answered ``PERSISTED_QUERY_NOT_FOUND``; the client then
  sends the text with the hash, the gateway checks that the hash is the text's SHA-256
  (``PERSISTED_QUERY_HASH_MISMATCH`` otherwise) and registers it.  A ``documentId`` (GraphQL over HTTP's
  persisted documents, ``sha256:`` prefix optional) is a lookup only.
- **APQ off**: a request naming a hash without its text gets ``PERSISTED_QUERY_NOT_SUPPORTED``, on which
  the clients fall back to sending texts; a text with a hash runs as a plain query.
- **Trusted documents** (``TRUSTED_DOCUMENTS=<manifest>``): only the manifest's documents run, named by
  hash or sent as text; anything else is ``PERSISTED_QUERY_NOT_ALLOWED`` before execution, so it
  causes no upstream request.  Nothing is registered in this mode.

Only documents that parse within the token limit and are no longer than a request body may be
registered: the store cannot fill with texts that would never run.  The caller is authenticated before
any of this (``GraphQLEndpoint``), so only holders of a credential can register anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from graphql import GraphQLError, parse

from gateway.core.persisted_documents import PersistedDocumentStore, document_hash, is_document_hash
from gateway.errors import GatewayError

from .params import GraphQLParams
from .rejections import (
    RequestRejected,
    bad_request,
    persisted_query_hash_mismatch,
    persisted_query_not_allowed,
    persisted_query_not_found,
    persisted_query_not_supported,
)

__all__ = ["DocumentResolver"]

_APQ_VERSION = 1


class DocumentResolver:
    """The query text a request runs, or a :class:`RequestRejected` saying why none.

    ``store`` gives the registered documents (None: APQ off); ``trusted`` is the manifest of
    trusted-documents mode (None: off), which takes precedence over APQ.
    """

    def __init__(
        self,
        *,
        store: Callable[[], PersistedDocumentStore] | None,
        trusted: Mapping[str, str] | None = None,
        max_document_bytes: int,
        max_query_tokens: int,
    ) -> None:
        self._store = store
        self._trusted = trusted
        self._max_document_bytes = max_document_bytes
        self._max_query_tokens = max_query_tokens

    async def document(self, params: GraphQLParams) -> str:
        requested = _requested_hash(params)
        if self._trusted is not None:
            return self._trusted_document(params.query, requested, self._trusted)
        if requested is None:
            assert params.query is not None, "params without a query always name a document"
            return params.query
        if self._store is None:
            if params.query is None:
                raise persisted_query_not_supported()
            return params.query
        try:
            return await self._persisted(params.query, requested, self._store())
        except GatewayError as error:  # the store is unavailable: a typed answer, never a 500
            raise RequestRejected(503, error.code, str(error)) from None

    async def _persisted(self, query: str | None, requested: str, store: PersistedDocumentStore) -> str:
        if query is None:
            document = await store.get(requested)
            if document is None:
                raise persisted_query_not_found()
            return document
        if document_hash(query) != requested:
            raise persisted_query_hash_mismatch()
        if self._registrable(query):
            await store.put(requested, query)
        return query

    def _registrable(self, query: str) -> bool:
        if len(query.encode()) > self._max_document_bytes:
            return False
        try:
            parse(query, no_location=True, max_tokens=self._max_query_tokens)
        except GraphQLError:
            return False  # it still runs, and execution reports why it cannot
        return True

    @staticmethod
    def _trusted_document(query: str | None, requested: str | None, trusted: Mapping[str, str]) -> str:
        sha256 = requested if requested is not None else document_hash(query or "")
        document = trusted.get(sha256)
        if document is None:
            raise persisted_query_not_allowed()
        if query is not None and query != document:
            raise persisted_query_hash_mismatch()
        return document


def _requested_hash(params: GraphQLParams) -> str | None:
    """The hash a request names, checked for shape: ``extensions.persistedQuery`` or ``documentId``."""
    persisted = params.persisted
    if persisted is not None:
        if not isinstance(persisted, dict) or persisted.get("version") != _APQ_VERSION:
            raise bad_request("extensions.persistedQuery must be {version: 1, sha256Hash: <hex SHA-256>}.")
        sha256 = persisted.get("sha256Hash")
        if not isinstance(sha256, str) or not is_document_hash(sha256.lower()):
            raise bad_request("extensions.persistedQuery.sha256Hash must be a hex SHA-256 (64 digits).")
        return sha256.lower()
    if params.document_id is not None:
        sha256 = params.document_id.removeprefix("sha256:").lower()
        if not is_document_hash(sha256):
            raise bad_request("documentId must be a hex SHA-256, optionally prefixed with 'sha256:'.")
        return sha256
    return None
