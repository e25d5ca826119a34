"""Service keys: issued once, stored as a hash, verified on every request against the shared database.

A key reads ``dcg_<public id>_<secret>``.  The public part (``prefix``, the first sixteen characters)
finds the row with one indexed query; the secret is 256 random bits.  Only the SHA-256 of the whole
key is stored, and it is compared in constant time (``hmac.compare_digest``).

Why a fast hash and not bcrypt or argon2: those are slow on purpose so that a leaked hash of a
*guessable* password costs years to reverse.  A 256-bit random secret cannot be guessed at any speed,
so slowness buys nothing and would cost every request tens of milliseconds of CPU.

:meth:`KeyStore.verify` reads the key's row on every call, so a revocation through any replica (or
``gateway keys revoke``) refuses the very next request on every replica sharing the database.  The
application puts :class:`~gateway.store.key_cache.CachedKeyVerifier` in front of it, which keeps that
promise with a cheaper question per request.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from gateway.core.principals import Principal, PrincipalKind, PrincipalLimits, Scope
from gateway.errors import ServiceKeyError

from .database import Database
from .models import ApiKey

__all__ = ["IssuedKey", "KeyStore", "ServiceKey", "hash_credential", "split_credential"]

KEY_MARKER = "dcg"
_PUBLIC_LENGTH = 12  # base32 characters: 60 bits, enough that two keys never share a prefix
_PREFIX_LENGTH = len(KEY_MARKER) + 1 + _PUBLIC_LENGTH
_SECRET_BYTES = 32
# A credential longer than any key we issue is refused before it is hashed or looked up.
_CREDENTIAL_MAX = _PREFIX_LENGTH + 1 + 64
_NAME_MAX = 200


def split_credential(credential: str) -> str | None:
    """The lookup prefix of a well-formed key, or None: a malformed credential costs no query."""
    if len(credential) > _CREDENTIAL_MAX or not credential.startswith(KEY_MARKER + "_"):
        return None
    prefix, rest = credential[:_PREFIX_LENGTH], credential[_PREFIX_LENGTH:]
    if not rest.startswith("_") or len(rest) < 2 or not prefix[len(KEY_MARKER) + 1 :].isalnum():
        return None
    return prefix


def hash_credential(credential: str) -> str:
    return hashlib.sha256(credential.encode()).hexdigest()


def _new_credential() -> tuple[str, str]:
    """(prefix, credential): a fresh public id and secret."""
    public = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:_PUBLIC_LENGTH]
    prefix = f"{KEY_MARKER}_{public}"
    return prefix, f"{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"


@dataclass(frozen=True, slots=True)
class ServiceKey:
    """What may be shown about a key: everything but its secret and hash."""

    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    requests_per_minute: int | None = None
    """Its own request rate (None: the gateway's default)."""
    daily_cost: int | None = None
    """Its own daily query cost (None: the gateway's default)."""

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ServiceKey
    credential: str
    """The key itself: shown to the operator once, never stored."""

    def __repr__(self) -> str:  # a logged IssuedKey must not leak the credential
        return f"IssuedKey(key={self.key!r}, credential='{self.key.prefix}_…')"


def _validated_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    known = {scope.value for scope in Scope}
    cleaned = tuple(dict.fromkeys(scope.strip() for scope in scopes if scope.strip()))
    if not cleaned:
        raise ServiceKeyError("a key needs at least one scope", code="UNKNOWN_SCOPE")
    unknown = [scope for scope in cleaned if scope not in known]
    if unknown:
        raise ServiceKeyError(
            f"unknown scope {', '.join(unknown)}; known: {', '.join(sorted(known))}", code="UNKNOWN_SCOPE"
        )
    return cleaned


def _validated_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= _NAME_MAX or not name.isprintable():
        raise ServiceKeyError(f"a key's name has 1 to {_NAME_MAX} printable characters")
    return name


class KeyStore:
    """Service keys in the gateway's database: create, list, revoke, and verify a presented key."""

    def __init__(
        self,
        database: Database,
        *,
        touch_interval: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self._touch_interval = timedelta(seconds=touch_interval)
        self._clock = clock

    async def create(
        self,
        name: str,
        scopes: Sequence[str],
        *,
        expires_in: timedelta | None = None,
        requests_per_minute: int | None = None,
        daily_cost: int | None = None,
    ) -> IssuedKey:
        name = _validated_name(name)
        valid_scopes = _validated_scopes(scopes)
        if expires_in is not None and expires_in <= timedelta(0):
            raise ServiceKeyError("a key's lifetime must be positive")
        for limit in (requests_per_minute, daily_cost):
            if limit is not None and limit < 1:
                raise ServiceKeyError("a key's limits must be positive")
        now = self._clock()
        prefix, credential = _new_credential()
        key = ServiceKey(
            id=uuid.uuid4().hex,
            name=name,
            prefix=prefix,
            scopes=valid_scopes,
            created_at=now,
            expires_at=now + expires_in if expires_in is not None else None,
            revoked_at=None,
            last_used_at=None,
            requests_per_minute=requests_per_minute,
            daily_cost=daily_cost,
        )
        try:
            async with self._database.begin() as connection:
                await connection.execute(
                    insert(ApiKey).values(
                        id=key.id,
                        name=key.name,
                        prefix=key.prefix,
                        secret_hash=hash_credential(credential),
                        scopes=list(key.scopes),
                        created_at=key.created_at,
                        expires_at=key.expires_at,
                        requests_per_minute=key.requests_per_minute,
                        daily_cost=key.daily_cost,
                    )
                )
        except IntegrityError as error:
            raise ServiceKeyError(
                f"a key named {name!r} exists already (names stay taken after a revocation)",
                code="SERVICE_KEY_NAME_TAKEN",
            ) from error
        return IssuedKey(key, credential)

    async def list(self) -> list[ServiceKey]:
        async with self._database.connect() as connection:
            rows = (await connection.execute(select(*_LISTED).order_by(ApiKey.created_at, ApiKey.id))).all()
        return [_service_key(row) for row in rows]

    async def revoke(self, name_or_id: str) -> tuple[ServiceKey, bool]:
        """Revoke the key with this name, id or prefix: (the key, whether this call revoked it)."""
        wanted = name_or_id.strip()
        async with self._database.connect() as connection:
            rows = (
                await connection.execute(
                    select(*_LISTED).where(
                        or_(ApiKey.id == wanted, ApiKey.name == wanted, ApiKey.prefix == wanted)
                    )
                )
            ).all()
        if not rows:
            raise ServiceKeyError(f"no key has the name or id {wanted!r}", code="SERVICE_KEY_NOT_FOUND")
        if len(rows) > 1:
            raise ServiceKeyError(f"{wanted!r} names several keys: revoke by id", code="BAD_USER_INPUT")
        key = _service_key(rows[0])
        now = self._clock()
        async with self._database.begin() as connection:
            changed = await connection.execute(
                update(ApiKey).where(ApiKey.id == key.id, ApiKey.revoked_at.is_(None)).values(revoked_at=now)
            )
        if changed.rowcount == 0:
            return key, False
        return dataclasses.replace(key, revoked_at=now), True

    async def verify(self, credential: str) -> Principal | None:
        verified = await self.verified_key(credential)
        return verified[0] if verified is not None else None

    async def verified_key(self, credential: str) -> tuple[Principal, datetime | None] | None:
        """The principal of a valid key and the key's expiry; None for anything else."""
        prefix = split_credential(credential)
        if prefix is None:
            return None
        with self._database.unavailable_as_error():
            row = await self._row_of(prefix)
        if row is None or not hmac.compare_digest(row.secret_hash, hash_credential(credential)):
            return None
        now = self._clock()
        if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        if row.last_used_at is None or now - row.last_used_at >= self._touch_interval:
            await self.touch(row.id, now)
        limits = None
        if row.requests_per_minute is not None or row.daily_cost is not None:
            limits = PrincipalLimits(row.requests_per_minute, row.daily_cost)
        principal = Principal(PrincipalKind.KEY, row.id, row.name, frozenset(row.scopes), limits)
        return principal, row.expires_at

    async def _row_of(self, prefix: str) -> Row[*tuple[Any, ...]] | None:
        async with self._database.connect() as connection:
            return (
                await connection.execute(
                    select(
                        ApiKey.id,
                        ApiKey.name,
                        ApiKey.secret_hash,
                        ApiKey.scopes,
                        ApiKey.expires_at,
                        ApiKey.revoked_at,
                        ApiKey.last_used_at,
                        ApiKey.requests_per_minute,
                        ApiKey.daily_cost,
                    ).where(ApiKey.prefix == prefix)
                )
            ).one_or_none()

    async def touch(self, key_id: str, now: datetime) -> None:
        """Record use, at most once per interval per key, whichever replica gets there first."""
        stale = now - self._touch_interval
        with self._database.unavailable_as_error():
            await self._touch(key_id, stale, now)

    async def _touch(self, key_id: str, stale: datetime, now: datetime) -> None:
        async with self._database.begin() as connection:
            await connection.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == key_id,
                    or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= stale),
                )
                .values(last_used_at=now)
            )


_LISTED = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.prefix,
    ApiKey.scopes,
    ApiKey.created_at,
    ApiKey.expires_at,
    ApiKey.revoked_at,
    ApiKey.last_used_at,
    ApiKey.requests_per_minute,
    ApiKey.daily_cost,
)


def _service_key(row: Row[*tuple[Any, ...]]) -> ServiceKey:
    return ServiceKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        requests_per_minute=row.requests_per_minute,
        daily_cost=row.daily_cost,
    )
