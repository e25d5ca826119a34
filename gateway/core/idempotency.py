"""Idempotency keys for mutations: a retried request gets the first answer instead of acting twice.

A service that sends ``deleteContacts`` or ``restoreContacts`` and loses the answer (a timeout, a
dropped connection) cannot tell whether the contacts were changed.  Sending the same
``idempotencyKey`` again is safe: the first request claims the key, the gateway stores its result
when it is done, and every later request with that key and the same input gets that result back
without calling any provider.  The same key with different input is refused
(``IDEMPOTENCY_KEY_REUSED``); a retry that arrives while the first request is still running is told
to wait (``IDEMPOTENCY_IN_PROGRESS`` with ``retryAfter``).  A request that fails unexpectedly
releases its key, so a retry runs again.  Results are kept ``ttl`` seconds (24 hours by default).

Two stores here, like the paging snapshots: :class:`MemoryIdempotencyStore` (one process) and
:class:`RedisIdempotencyStore` (every replica sees every key); the gateway's database holds the third
(``gateway.store.idempotency``).  Keys belong to a principal: mutations use each store through
``for_principal``, so one principal's key never finds, replays or blocks another's.  These two stores
give a principal its own part of the key space (:class:`PrincipalView`); the database keys its table
by principal.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

import orjson

from gateway.errors import GatewayError, UserInputError

from .principals import Principal

__all__ = [
    "IdempotencyInProgress",
    "IdempotencyKeyReused",
    "IdempotencyStore",
    "MemoryIdempotencyStore",
    "PrincipalView",
    "RedisIdempotencyStore",
]

_RUNNING = "running"
_DONE = "done"


class IdempotencyKeyReused(UserInputError):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyInProgress(GatewayError):
    code = "IDEMPOTENCY_IN_PROGRESS"

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _check(record: dict[str, str], fingerprint: str) -> bytes:
    """The stored result for a repeated request, or the error that says why there is none."""
    if record["fingerprint"] != fingerprint:
        raise IdempotencyKeyReused("this idempotencyKey was used with a different input")
    if record["state"] == _RUNNING:
        raise IdempotencyInProgress("a request with this idempotencyKey is still running; retry shortly")
    return record["result"].encode()


class IdempotencyStore(Protocol):
    ttl: float

    async def claim(self, key: str, fingerprint: str) -> bytes | None:
        """None: the caller owns ``key`` now and must :meth:`complete` or :meth:`release` it.
        Bytes: the result of an earlier request with this key and input."""
        ...

    async def complete(self, key: str, fingerprint: str, result: bytes) -> None: ...

    async def release(self, key: str) -> None: ...

    async def aclose(self) -> None: ...


class PrincipalView:
    """One principal's part of a store whose keys are plain strings: every key is prefixed with the
    principal's ``scope_key`` and its length, so that no principal's key can spell another's."""

    def __init__(self, store: IdempotencyStore, principal: Principal) -> None:
        self._store = store
        self._prefix = f"{len(principal.scope_key)}:{principal.scope_key}:"
        self.ttl = store.ttl

    async def claim(self, key: str, fingerprint: str) -> bytes | None:
        return await self._store.claim(self._prefix + key, fingerprint)

    async def complete(self, key: str, fingerprint: str, result: bytes) -> None:
        await self._store.complete(self._prefix + key, fingerprint, result)

    async def release(self, key: str) -> None:
        await self._store.release(self._prefix + key)

    async def aclose(self) -> None:
        """Nothing to do: the store belongs to whoever built it."""


class MemoryIdempotencyStore:
    def __init__(self, *, ttl: float = 86_400.0, max_keys: int = 10_000) -> None:
        self.ttl = ttl
        self._max_keys = max_keys
        self._records: OrderedDict[str, tuple[float, dict[str, str]]] = OrderedDict()

    async def claim(self, key: str, fingerprint: str) -> bytes | None:
        now = time.monotonic()
        held = self._records.get(key)
        if held is not None and held[0] > now:
            return _check(held[1], fingerprint)
        self._records[key] = (now + self.ttl, {"fingerprint": fingerprint, "state": _RUNNING})
        self._records.move_to_end(key)
        while len(self._records) > self._max_keys:
            self._records.popitem(last=False)
        return None

    def for_principal(self, principal: Principal) -> IdempotencyStore:
        return PrincipalView(self, principal)

    async def complete(self, key: str, fingerprint: str, result: bytes) -> None:
        record = {"fingerprint": fingerprint, "state": _DONE, "result": result.decode()}
        self._records[key] = (time.monotonic() + self.ttl, record)

    async def release(self, key: str) -> None:
        self._records.pop(key, None)

    async def aclose(self) -> None:
        self._records.clear()


class RedisIdempotencyStore:
    """Keys in Redis: ``SET NX`` claims atomically across replicas; ``PX`` expires them."""

    def __init__(self, url: str, *, ttl: float = 86_400.0, prefix: str = "dcg:idempotency") -> None:
        import redis.asyncio as redis  # imported lazily: only deployments that configure Redis need it

        self.ttl = ttl
        self._prefix = prefix
        self._redis = redis.from_url(url)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    def for_principal(self, principal: Principal) -> IdempotencyStore:
        return PrincipalView(self, principal)

    async def claim(self, key: str, fingerprint: str) -> bytes | None:
        running = orjson.dumps({"fingerprint": fingerprint, "state": _RUNNING})
        ttl_ms = int(self.ttl * 1000)
        if await self._redis.set(self._key(key), running, nx=True, px=ttl_ms):
            return None
        stored = await self._redis.get(self._key(key))
        if stored is None:  # expired between the two calls: claim again
            return await self.claim(key, fingerprint)
        return _check(orjson.loads(stored), fingerprint)

    async def complete(self, key: str, fingerprint: str, result: bytes) -> None:
        record = orjson.dumps({"fingerprint": fingerprint, "state": _DONE, "result": result.decode()})
        await self._redis.set(self._key(key), record, px=int(self.ttl * 1000))

    async def release(self, key: str) -> None:
        await self._redis.delete(self._key(key))

    async def aclose(self) -> None:
        await self._redis.aclose()
