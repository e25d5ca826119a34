"""Service keys verified once, then recognised from memory until any key is revoked.

:meth:`KeyStore.verify` reads the key's row on every call.  :class:`CachedKeyVerifier` keeps what it
answered for a credential, keyed by the credential's SHA-256 (the credential itself is not kept),
and answers again from memory while two things hold:

- no key has been revoked since: the count of revoked keys (:mod:`.revocations`) is asked on every
  request, and when it moved the whole cache is dropped, so a revocation anywhere refuses the very
  next request on every replica;
- the key has not expired: its expiry is kept with it and compared with the clock.

Unknown or refused credentials are never cached: each costs its own lookup, as without the cache.
The cache is bounded (least recently used entries go first).  ``API_KEY_CACHE=false`` turns it off;
the tests run the same sequences through both and compare the answers.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.core.principals import Principal

from .keys import KeyStore, split_credential
from .revocations import RevocationCounter

__all__ = ["CachedKeyVerifier"]


@dataclass(slots=True)
class _Entry:
    principal: Principal
    expires_at: datetime | None
    touched_at: datetime


class CachedKeyVerifier:
    def __init__(
        self,
        keys: KeyStore,
        revocations: RevocationCounter,
        *,
        max_entries: int,
        touch_interval: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._keys = keys
        self._revocations = revocations
        self._max_entries = max_entries
        self._touch_interval = timedelta(seconds=touch_interval)
        self._clock = clock
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._revoked: int | None = None

    async def verify(self, credential: str) -> Principal | None:
        if split_credential(credential) is None:
            return None  # malformed: no query, no cache entry
        revoked = await self._revocations.count()
        if revoked != self._revoked:
            self._entries.clear()
            self._revoked = revoked
        digest = hashlib.sha256(credential.encode()).digest()
        now = self._clock()
        entry = self._entries.get(digest)
        if entry is not None:
            if entry.expires_at is not None and entry.expires_at <= now:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            if now - entry.touched_at >= self._touch_interval:
                entry.touched_at = now
                await self._keys.touch(entry.principal.id, now)
            return entry.principal
        verified = await self._keys.verified_key(credential)
        if verified is None:
            return None
        principal, expires_at = verified
        # A revocation that landed while the key was being read must not be cached past: the entry
        # is stored only if the count is still the one this request started with.
        if await self._revocations.count() == revoked:
            self._entries[digest] = _Entry(principal, expires_at, now)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return principal

    async def aclose(self) -> None:
        await self._revocations.aclose()
