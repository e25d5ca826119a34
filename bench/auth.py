"""What authentication costs per request: ``python -m bench.auth [--requests 5000]``.

Times the gateway's authenticator (``gateway.http.authentication.Authenticator``) on a request that
carries a credential, in process (no sockets, no GraphQL), for each way a credential is checked:

- a service key with the cache on (the default): the revocation count read per request;
- a service key with ``API_KEY_CACHE=false``: the key's row read per request;
- both again on PostgreSQL (``--postgres URL``, default the machine's 127.0.0.1:5432; skipped
  with ``--no-postgres``);
- an OIDC access token (RS256, keys from a JWKS served by a local HTTP server and cached).

Each figure is the median (and 90th percentile) of the per-request wall time after a warm-up, one
request at a time; the target (``TARGET_MS``) applies to a cached key lookup on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.requests import Request

from bench.machine import machine
from gateway.bootstrap import credential_verifiers, open_database
from gateway.config import Settings
from gateway.core.principals import Scope
from gateway.core.store_ports import CredentialVerifier
from gateway.http.authentication import Authenticator
from gateway.store import KeyStore

TARGET_MS = 0.3


def _authenticator(verifiers: Sequence[CredentialVerifier], settings: Settings) -> Authenticator:
    return Authenticator(lambda: verifiers, max_length=settings.auth_max_token_length)


def _request(credential: str) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [(b"authorization", f"Bearer {credential}".encode())],
    }
    return Request(scope)


async def _time(authenticator: Authenticator, credential: str, requests: int) -> tuple[float, float]:
    for _ in range(200):
        await authenticator(_request(credential))
    times: list[float] = []
    for _ in range(requests):
        request = _request(credential)
        started = time.perf_counter()
        await authenticator(request)
        times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.9)] * 1e3


async def _keys(settings: Settings, requests: int) -> list[tuple[str, float, float]]:
    rows = []
    for cached in (True, False):
        variant = settings.model_copy(update={"api_key_cache": cached})
        database = await open_database(variant)
        try:
            issued = await KeyStore(database).create(
                f"bench-{uuid.uuid4().hex[:8]}", [Scope.CONTACTS_READ.value]
            )
            verifiers, closers = credential_verifiers(variant, database)
            authenticator = _authenticator(verifiers, variant)
            p50, p90 = await _time(authenticator, issued.credential, requests)
            for close in closers:
                await close()
        finally:
            await database.aclose()
        rows.append((f"service key, cache {'on' if cached else 'off'}", p50, p90))
    return rows


async def _token(requests: int) -> tuple[str, float, float]:
    from tests.identity.issuer import AUDIENCE, running_issuer

    with running_issuer() as issuer, tempfile.TemporaryDirectory() as directory:
        settings = Settings(data_dir=Path(directory), auth_issuer=issuer.issuer, auth_audience=AUDIENCE)
        database = await open_database(settings)
        try:
            verifiers, closers = credential_verifiers(settings, database)
            authenticator = _authenticator(verifiers, settings)
            p50, p90 = await _time(authenticator, issuer.token(), requests)
            for close in closers:
                await close()
        finally:
            await database.aclose()
    return "OIDC access token (RS256, JWKS cached)", p50, p90


async def _postgres_database(admin_url: str) -> tuple[str, Any]:
    import asyncpg

    name = f"gateway_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()

    async def drop() -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    host_part = admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{host_part}/{name}", drop


async def _run(args: argparse.Namespace) -> list[tuple[str, float, float]]:
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as directory:
        for label, p50, p90 in await _keys(Settings(data_dir=Path(directory)), args.requests):
            rows.append((f"{label} (SQLite)", p50, p90))
    if not args.no_postgres:
        url, drop = await _postgres_database(args.postgres)
        try:
            settings = Settings(database_url=url)
            for label, p50, p90 in await _keys(settings, args.requests):
                rows.append((f"{label} (PostgreSQL)", p50, p90))
        finally:
            await drop()
    rows.append(await _token(args.requests))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.auth", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    given = list(argv if argv is not None else sys.argv[1:])
    print("command:", shlex.join(["python", "-m", "bench.auth", *given]))
    print(f"machine: {platform.platform()}, python {platform.python_version()}, ", end="")
    print(", ".join(f"{key} {value}" for key, value in machine().items()))
    rows = asyncio.run(_run(args))
    print(f"{args.requests} requests each, one at a time, after 200 to warm up")
    print("| credential | p50 | p90 |")
    print("|---|---|---|")
    for label, p50, p90 in rows:
        print(f"| {label} | {p50:.3f} ms | {p90:.3f} ms |")
    cached = rows[0][1]
    verdict = "meets" if cached < TARGET_MS else "MISSES"
    print(f"{verdict} the target of under {TARGET_MS} ms p50 with a cached key lookup (SQLite, the default)")
    return 0 if cached < TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
