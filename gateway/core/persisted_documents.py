"""Documents known by their SHA-256: Apollo's automatic persisted queries and a trusted manifest.

A client of the automatic persisted queries protocol (APQ) first sends only the SHA-256 of its query
text; the gateway runs the text it registered under that hash, or answers ``PERSISTED_QUERY_NOT_FOUND``
and the client sends the text and the hash together once, which registers it.  Registered documents
live in a :class:`PersistedDocumentStore`: the gateway's database (``gateway.store``), Redis, or this
process's memory.

A trusted manifest is the opposite arrangement: a fixed ``{hash: document}`` file written at build
time (GraphQL Code Generator's client preset, Relay's persisted queries), and only its documents run.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import orjson

__all__ = [
    "MemoryPersistedDocuments",
    "PersistedDocumentStore",
    "RedisPersistedDocuments",
    "document_hash",
    "is_document_hash",
    "load_manifest",
]

_HASH = re.compile(r"[0-9a-f]{64}")


def document_hash(document: str) -> str:
    """The lowercase hex SHA-256 of ``document``'s UTF-8 bytes, as APQ clients compute it."""
    return hashlib.sha256(document.encode()).hexdigest()


def is_document_hash(text: str) -> bool:
    return _HASH.fullmatch(text) is not None


class PersistedDocumentStore(Protocol):
    """Registered documents by hash.  Callers check that a document matches its hash before
    :meth:`put`, so a store never needs to; registering a hash twice keeps the first text (the same)."""

    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, document: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryPersistedDocuments:
    """This process's memory, the ``max_entries`` most recently used: a client whose hash was
    dropped gets ``PERSISTED_QUERY_NOT_FOUND`` and registers it again, which the protocol expects."""

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self._max_entries = max_entries
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256: str) -> str | None:
        document = self._documents.get(sha256)
        if document is not None:
            self._documents.move_to_end(sha256)
        return document

    async def put(self, sha256: str, document: str) -> None:
        self._documents[sha256] = document
        self._documents.move_to_end(sha256)
        while len(self._documents) > self._max_entries:
            self._documents.popitem(last=False)

    async def aclose(self) -> None:
        """Nothing to release."""


class RedisPersistedDocuments:
    """Documents in Redis, shared by every replica; each expires ``ttl`` seconds after its last use,
    so that documents no client sends any more do not stay forever."""

    def __init__(self, url: str, *, ttl: float, prefix: str = "dcg:apq") -> None:
        import redis.asyncio as redis  # imported lazily: only deployments that configure Redis need it

        self._redis = redis.from_url(url)
        self._ttl_ms = int(ttl * 1000)
        self._prefix = prefix

    async def get(self, sha256: str) -> str | None:
        stored = await self._redis.getex(f"{self._prefix}:{sha256}", px=self._ttl_ms)
        if stored is None:
            return None
        return stored.decode() if isinstance(stored, bytes) else str(stored)

    async def put(self, sha256: str, document: str) -> None:
        await self._redis.set(f"{self._prefix}:{sha256}", document.encode(), px=self._ttl_ms)

    async def aclose(self) -> None:
        await self._redis.aclose()


def load_manifest(path: Path) -> Mapping[str, str]:
    """The ``{sha256: document}`` object of a trusted-documents manifest, every entry checked.

    A hash that is not the SHA-256 of its document is refused rather than trusted: a manifest edited
    by hand could otherwise let one text run under another's name.  ``ValueError`` says what is wrong.
    """
    try:
        manifest = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise ValueError(f"TRUSTED_DOCUMENTS: cannot read {path} as JSON: {error}") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"TRUSTED_DOCUMENTS: {path} must hold a JSON object of hash -> document")
    documents: dict[str, str] = {}
    for key, document in manifest.items():
        # Some tools write "sha256:<hash>" keys (the documentId convention); both mean the same.
        sha256 = key.removeprefix("sha256:").lower()
        if not isinstance(document, str) or document_hash(document) != sha256:
            raise ValueError(f"TRUSTED_DOCUMENTS: entry {key[:80]!r} is not the SHA-256 of its document")
        documents[sha256] = document
    return documents
