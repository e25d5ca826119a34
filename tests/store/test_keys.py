"""Service keys: issued once, stored as a hash, compared in constant time, refused once revoked or
expired, and a revocation through one replica is refused at once by another."""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.core.principals import PrincipalKind, Scope
from gateway.errors import ServiceKeyError
from gateway.store import Database, KeyStore, current_revision
from gateway.store import keys as keys_module
from gateway.store.keys import hash_credential, split_credential
from gateway.store.models import ApiKey

from .migrating import migrate


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_created_key_verifies_as_its_principal(database: Database) -> None:
    store = KeyStore(database)
    issued = await store.create("crm-sync", ["contacts:read", "contacts:restore"])
    assert issued.credential.startswith(f"{issued.key.prefix}_")
    assert split_credential(issued.credential) == issued.key.prefix
    principal = await store.verify(issued.credential)
    assert principal is not None
    assert principal.kind is PrincipalKind.KEY
    assert (principal.id, principal.name) == (issued.key.id, "crm-sync")
    assert principal.scopes == {"contacts:read", "contacts:restore"}
    assert principal.allows(Scope.CONTACTS_RESTORE) and not principal.allows(Scope.CONTACTS_DELETE)


async def test_only_the_hash_is_stored(database: Database) -> None:
    issued = await KeyStore(database).create("svc", ["contacts:read"])
    secret = issued.credential.split("_", 2)[2]
    async with database.connect() as connection:
        row = (await connection.execute(select(ApiKey))).one()
    stored = " ".join(str(value) for value in row)
    assert secret not in stored and issued.credential not in stored
    assert row.secret_hash == hash_credential(issued.credential)
    assert secret not in repr(issued)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # wrong secret, right prefix
        lambda c: c + "x",  # longer
        lambda c: c[: c.index("_", len("dcg_"))],  # the prefix alone
        lambda c: c.replace("dcg_", "xyz_", 1),  # another scheme
        lambda c: "",
        lambda c: "dcg_" + "a" * 500,  # absurdly long
    ],
)
async def test_anything_but_the_exact_key_is_refused(database: Database, tamper: object) -> None:
    store = KeyStore(database)
    issued = await store.create("svc", ["contacts:read"])
    assert callable(tamper)
    assert await store.verify(tamper(issued.credential)) is None
    assert await store.verify(issued.credential) is not None


async def test_the_secret_is_compared_in_constant_time(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = KeyStore(database)
    issued = await store.create("svc", ["contacts:read"])
    compared: list[tuple[str, str]] = []
    constant_time = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    assert await store.verify(issued.credential) is not None
    assert await store.verify(issued.credential[:-1] + "!") is None
    assert len(compared) == 2
    assert compared[0] == (hash_credential(issued.credential), hash_credential(issued.credential))


async def test_a_revocation_through_one_replica_is_refused_at_once_by_the_other(
    database: Database, replica: Database
) -> None:
    here, there = KeyStore(database), KeyStore(replica)
    issued = await here.create("svc", ["contacts:read"])
    other = await here.create("other", ["contacts:read"])
    assert await there.verify(issued.credential) is not None  # the other replica knows it...
    key, revoked_now = await here.revoke("svc")
    assert revoked_now and key.revoked_at is not None
    assert await there.verify(issued.credential) is None  # ...and refuses it on the very next call
    assert await here.verify(issued.credential) is None
    assert await there.verify(other.credential) is not None  # nothing else is touched
    again, revoked_now = await there.revoke(key.id)
    assert not revoked_now and again.revoked_at == key.revoked_at


async def test_an_expired_key_is_refused(database: Database) -> None:
    clock = Clock()
    store = KeyStore(database, clock=clock)
    issued = await store.create("temp", ["contacts:read"], expires_in=timedelta(days=2))
    assert issued.key.expires_at == clock.now + timedelta(days=2)
    clock.now += timedelta(days=1, hours=23)
    assert await store.verify(issued.credential) is not None
    clock.now += timedelta(hours=1)
    assert await store.verify(issued.credential) is None
    (listed,) = await store.list()
    assert listed.state(clock.now) == "expired"


async def test_last_use_is_recorded_at_most_once_per_interval(database: Database) -> None:
    clock = Clock()
    store = KeyStore(database, touch_interval=60, clock=clock)
    issued = await store.create("svc", ["contacts:read"])
    first_use = clock.now
    await store.verify(issued.credential)
    clock.now += timedelta(seconds=30)
    await store.verify(issued.credential)
    (listed,) = await store.list()
    assert listed.last_used_at == first_use
    clock.now += timedelta(seconds=31)
    await store.verify(issued.credential)
    (listed,) = await store.list()
    assert listed.last_used_at == clock.now


async def test_names_are_unique_scopes_known_and_unknown_keys_named(database: Database) -> None:
    store = KeyStore(database)
    await store.create("svc", ["contacts:read"])
    with pytest.raises(ServiceKeyError) as taken:
        await store.create("svc", ["contacts:read"])
    assert taken.value.code == "SERVICE_KEY_NAME_TAKEN"
    with pytest.raises(ServiceKeyError) as unknown:
        await store.create("typo", ["contacts:reed"])
    assert unknown.value.code == "UNKNOWN_SCOPE" and "contacts:reed" in unknown.value.message
    with pytest.raises(ServiceKeyError) as none:
        await store.create("empty", [" ", ""])
    assert none.value.code == "UNKNOWN_SCOPE"
    with pytest.raises(ServiceKeyError) as missing:
        await store.revoke("nobody")
    assert missing.value.code == "SERVICE_KEY_NOT_FOUND"
    with pytest.raises(ServiceKeyError):
        await store.create("later", ["contacts:read"], expires_in=timedelta(0))
    assert [key.name for key in await store.list()] == ["svc"]


async def test_no_secret_reaches_the_logs(database: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # every statement and its parameters
    try:
        store = KeyStore(database)
        issued = await store.create("svc", ["contacts:read"])
        await store.verify(issued.credential)
        await store.list()
        await store.revoke("svc")
        await store.verify(issued.credential)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert "api_keys" in caplog.text  # the statements were logged...
    assert issued.credential.split("_", 2)[2] not in caplog.text  # ...the secret never


async def test_a_key_may_carry_its_own_limits(database: Database) -> None:
    store = KeyStore(database)
    limited = await store.create("batch-job", ["contacts:read"], requests_per_minute=5, daily_cost=300)
    plain = await store.create("ui", ["contacts:read"])
    principal = await store.verify(limited.credential)
    assert principal is not None and principal.limits is not None
    assert (principal.limits.requests_per_minute, principal.limits.daily_cost) == (5, 300)
    default = await store.verify(plain.credential)
    assert default is not None and default.limits is None
    listed = {key.name: (key.requests_per_minute, key.daily_cost) for key in await store.list()}
    assert listed == {"batch-job": (5, 300), "ui": (None, None)}
    with pytest.raises(ServiceKeyError):
        await store.create("broken", ["contacts:read"], daily_cost=0)


async def test_migration_0004_adds_the_key_limits_and_takes_them_away(database: Database) -> None:
    issued = await KeyStore(database).create("kept", ["contacts:read"])
    before = (await migrate(database, "downgrade", "0003")).columns["api_keys"]
    assert not {"requests_per_minute", "daily_cost"} & before
    assert await current_revision(database) == "0003"
    after = (await migrate(database, "upgrade", "head")).columns["api_keys"]
    assert {"requests_per_minute", "daily_cost"} <= after
    principal = await KeyStore(database).verify(issued.credential)  # the key survived both ways
    assert principal is not None and principal.limits is None
