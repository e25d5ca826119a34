"""Operator commands on the gateway's database: ``gateway db upgrade|current``,
``gateway keys create|list|revoke`` and ``gateway audit export|prune``.

Each opens the database the settings name (``DATABASE_URL``, or the SQLite file under ``DATA_DIR``),
does one thing, and closes it.  Failures are one line on stderr and exit status 1, never a traceback;
no secret but a newly created key is ever printed, and that only once, alone on stdout's last line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from .config import Settings
from .core.audit import AuditEvent, retention_cutoff
from .errors import GatewayError
from .store import (
    Database,
    DatabaseAuditTrail,
    IssuedKey,
    KeyStore,
    ServiceKey,
    current_revision,
    ensure_schema,
    head_revision,
    upgrade,
)

__all__ = ["add_audit_commands", "add_database_commands", "add_key_commands", "issue_key", "prepare_database"]

Command = Callable[[argparse.Namespace, Settings, Database], Awaitable[int]]


def _runner(name: str, command: Command, *, needs_schema: bool = True) -> Callable[[argparse.Namespace], int]:
    """``command`` run against the configured database, its failures turned into one clear line."""

    async def with_database(args: argparse.Namespace, settings: Settings) -> int:
        database = Database.from_settings(settings)
        try:
            if needs_schema:
                await ensure_schema(
                    database,
                    migrate=settings.database_migrate_on_start,
                    wait_seconds=settings.database_migration_wait_seconds,
                )
            with database.unavailable_as_error():
                return await command(args, settings, database)
        finally:
            await database.aclose()

    def run(args: argparse.Namespace) -> int:
        try:
            settings = Settings()
            return asyncio.run(with_database(args, settings))
        except GatewayError as error:
            print(f"gateway {name}: {error.message} ({error.code})", file=sys.stderr)
            return 1
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
            )
            print(f"gateway {name}: invalid settings: {problems}", file=sys.stderr)
            return 1

    return run


def prepare_database(settings: Settings) -> str | None:
    """Bring the database to the code's revision, or refuse (``DATABASE_MIGRATE_ON_START``):
    None when it is ready, else the reason to print before refusing to serve."""

    # Imported here: the composition root pulls in every provider, which no other command needs.
    from .bootstrap import open_database

    async def prepare() -> None:
        database = await open_database(settings)  # the same checks the app's start makes
        await database.aclose()

    try:
        asyncio.run(prepare())
    except GatewayError as error:
        return f"{error.message} ({error.code})"
    return None


def issue_key(settings: Settings, name: str, scopes: Sequence[str]) -> IssuedKey:
    """A new service key in ``settings``' database (brought to the code's revision first): for
    commands that start a gateway with a key of their own, such as ``gateway demo``."""
    from .bootstrap import open_database

    async def issue() -> IssuedKey:
        database = await open_database(settings)
        try:
            return await KeyStore(database, touch_interval=settings.api_key_touch_seconds).create(
                name, scopes
            )
        finally:
            await database.aclose()

    return asyncio.run(issue())


# gateway db ...


async def _upgrade(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    before, after = await upgrade(database, wait_seconds=settings.database_migration_wait_seconds)
    if before == after:
        print(f"{database.display_url}: already at revision {after} (head)")
    else:
        print(f"{database.display_url}: upgraded from {before or 'empty'} to {after} (head)")
    return 0


async def _current(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    current, head = await current_revision(database), head_revision()
    state = "head" if current == head else f"behind: head is {head}; run `gateway db upgrade`"
    print(f"{database.display_url}: revision {current or 'none (empty database)'} ({state})")
    return 0


def add_database_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="the gateway's own database (DATABASE_URL, or DATA_DIR/gateway.db)")
    actions = db.add_subparsers(dest="db_command", required=True)
    actions.add_parser("upgrade", help="apply the migrations up to the newest").set_defaults(
        run=_runner("db upgrade", _upgrade, needs_schema=False)
    )
    actions.add_parser("current", help="show the database's migration revision").set_defaults(
        run=_runner("db current", _current, needs_schema=False)
    )


# gateway keys ...


def _moment(value: datetime | None, never: str = "never") -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else never


async def _create(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    keys = KeyStore(database, touch_interval=settings.api_key_touch_seconds)
    lifetime = timedelta(days=args.expires_in) if args.expires_in is not None else None
    issued = await keys.create(
        args.name,
        args.scopes.split(","),
        expires_in=lifetime,
        requests_per_minute=args.requests_per_minute,
        daily_cost=args.daily_cost,
    )
    key = issued.key
    print(f"created key {key.name!r}: id {key.id}, prefix {key.prefix}")
    print(f"scopes: {' '.join(key.scopes)}; expires: {_moment(key.expires_at)}; limits: {_limits(key)}")
    print("the key follows, shown this once: store it now (the gateway keeps only its hash)")
    print(issued.credential)
    return 0


async def _list(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    keys = await KeyStore(database).list()
    now = datetime.now(UTC)
    header = (
        "ID",
        "NAME",
        "PREFIX",
        "STATE",
        "SCOPES",
        "LIMITS",
        "CREATED",
        "EXPIRES",
        "REVOKED",
        "LAST USED",
    )
    rows = [header, *(_row(key, now) for key in keys)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _limits(key: ServiceKey) -> str:
    """A key's own budget, or "default" (the gateway's settings)."""
    rate = f"{key.requests_per_minute}/min" if key.requests_per_minute is not None else "default/min"
    cost = f"{key.daily_cost}/day" if key.daily_cost is not None else "default/day"
    return "default" if key.requests_per_minute is None and key.daily_cost is None else f"{rate},{cost}"


def _row(key: ServiceKey, now: datetime) -> tuple[str, ...]:
    return (
        key.id,
        key.name,
        key.prefix,
        key.state(now),
        ",".join(key.scopes),
        _limits(key),
        _moment(key.created_at),
        _moment(key.expires_at),
        _moment(key.revoked_at, "-"),
        _moment(key.last_used_at),
    )


async def _revoke(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    key, revoked_now = await KeyStore(database).revoke(args.name_or_id)
    if revoked_now:
        print(
            f"revoked key {key.name!r} (id {key.id}): refused from now on by every gateway on this database"
        )
    else:
        print(f"key {key.name!r} (id {key.id}) was already revoked at {_moment(key.revoked_at)}")
    return 0


def _positive_days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not days > 0:
        raise argparse.ArgumentTypeError("the number of days must be positive")
    return days


def add_key_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="service keys: create, list, revoke")
    actions = keys.add_subparsers(dest="keys_command", required=True)

    create = actions.add_parser("create", help="issue a key (printed once, alone on the last line)")
    create.add_argument("--name", required=True, help="unique name, e.g. the service that will use it")
    create.add_argument(
        "--scopes", required=True, help="comma-separated, e.g. contacts:read,contacts:restore"
    )
    create.add_argument("--expires-in", type=_positive_days, metavar="DAYS", help="default: never expires")
    create.add_argument(
        "--requests-per-minute", type=int, metavar="N", help="this key's rate (default: the gateway's)"
    )
    create.add_argument(
        "--daily-cost", type=int, metavar="N", help="this key's daily query cost (default: the gateway's)"
    )
    create.set_defaults(run=_runner("keys create", _create))

    actions.add_parser("list", help="every key, without secrets").set_defaults(
        run=_runner("keys list", _list)
    )

    revoke = actions.add_parser("revoke", help="refuse a key from now on, on every replica")
    revoke.add_argument("name_or_id", metavar="NAME_OR_ID", help="the key's name, id or prefix")
    revoke.set_defaults(run=_runner("keys revoke", _revoke))


# gateway audit ...


def _moment_argument(text: str) -> datetime:
    """A day (``2026-05-01``, its midnight UTC) or an ISO moment; a moment without a zone is UTC."""
    try:
        moment = datetime.fromisoformat(text) if "T" in text or " " in text else None
        if moment is None:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or ISO time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def audit_line(event: AuditEvent) -> bytes:
    """One event as a JSON line: the same keys, in the same order, for every event."""
    record: dict[str, Any] = {
        "id": event.id,
        "actionId": event.action_id,
        "at": _iso(event.at),
        "principal": {
            "kind": event.principal_kind.name,
            "id": event.principal_id,
            "name": event.principal_name,
        },
        "operation": event.operation,
        "provider": event.provider.name if event.provider is not None else None,
        "index": event.item_index,
        "contactId": event.contact_id,
        "email": event.email,
        "status": event.status.name,
        "code": event.code,
        "message": event.message,
        "overrideReason": event.override_reason,
        "requestId": event.request_id,
        "correlationId": event.correlation_id,
        "idempotencyKey": event.idempotency_key,
        "dryRun": event.dry_run,
        "replay": event.replay,
    }
    return orjson.dumps(record) + b"\n"


async def _export(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    out = sys.stdout.buffer
    try:
        async for event in DatabaseAuditTrail(database).export(args.since, args.until):
            out.write(audit_line(event))
        out.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): what it wanted was written.  Python's own flush of
        # stdout at exit would fail on the closed pipe again, so stdout goes to nowhere instead.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


async def _prune(args: argparse.Namespace, settings: Settings, database: Database) -> int:
    cutoff = retention_cutoff(settings.audit_retention_days)
    removed = await DatabaseAuditTrail(database).prune(cutoff)
    days = f"AUDIT_RETENTION_DAYS={settings.audit_retention_days:g}"
    print(f"deleted {removed} audit events older than {_iso(cutoff)} ({days})")
    return 0


def add_audit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="the audit trail of the mutations: export, prune")
    actions = audit.add_subparsers(dest="audit_command", required=True)

    export = actions.add_parser("export", help="events as JSON lines on stdout, oldest first")
    export.add_argument("--since", required=True, type=_moment_argument, metavar="DATE", help="inclusive")
    export.add_argument("--until", type=_moment_argument, metavar="DATE", help="exclusive; default: now")
    export.set_defaults(run=_runner("audit export", _export))

    actions.add_parser(
        "prune", help="delete the events older than AUDIT_RETENTION_DAYS (also done at every start)"
    ).set_defaults(run=_runner("audit prune", _prune))
