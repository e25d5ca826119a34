"""``gateway audit export`` and ``gateway audit prune`` as an operator runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.core.audit import AuditEvent, AuditPhase, AuditStatus, MutationContext
from gateway.core.model import Provider
from gateway.core.principals import Caller, Principal, PrincipalKind
from gateway.store import Database, DatabaseAuditTrail

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.now(UTC).replace(microsecond=0)
KEYS = [
    "id",
    "actionId",
    "at",
    "principal",
    "operation",
    "provider",
    "index",
    "contactId",
    "email",
    "status",
    "code",
    "message",
    "overrideReason",
    "requestId",
    "correlationId",
    "idempotencyKey",
    "dryRun",
    "replay",
]


def gateway(url: str, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATABASE_URL": url, **env}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *argv],
        capture_output=True,
        text=True,
        env=environment,
        cwd=ROOT,
        timeout=120,
    )


async def _seed(database: Database) -> None:
    principal = Principal(PrincipalKind.KEY, "k-1", "crm-sync", frozenset())
    context = MutationContext(Caller(principal, "req-1", "corr-1"), "deleteContacts", "key-1", False)

    def event(n: int, at: datetime, phase: AuditPhase = AuditPhase.OUTCOME) -> AuditEvent:
        status = AuditStatus.DONE if phase is AuditPhase.OUTCOME else AuditStatus.UNKNOWN
        return context.event(
            at=at,
            phase=phase,
            status=status,
            item_index=n,
            provider=Provider.GETRESPONSE,
            contact_id=f"c{n}",
            email=f"p{n}@example.com",
        )

    await DatabaseAuditTrail(database).append(
        [
            event(0, NOW - timedelta(days=400)),
            event(1, NOW - timedelta(days=3)),
            event(2, NOW - timedelta(days=2), AuditPhase.INTENT),
            event(3, NOW - timedelta(days=1)),
        ]
    )


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines()]


async def test_export_writes_json_lines_and_prune_honours_the_retention(
    database: Database, database_url: str
) -> None:
    await _seed(database)

    exported = gateway(database_url, "audit", "export", "--since", "2000-01-01")
    assert exported.returncode == 0, exported.stderr
    events = _lines(exported.stdout)
    assert [e["contactId"] for e in events] == ["c0", "c1", "c2", "c3"]  # oldest first
    assert all(list(e) == KEYS for e in events)  # the same keys, in the same order, on every line
    assert events[2]["status"] == "UNKNOWN" and events[1]["status"] == "DONE"
    assert events[1]["principal"] == {"kind": "KEY", "id": "k-1", "name": "crm-sync"}
    assert all(str(e["at"]).endswith("Z") and datetime.fromisoformat(str(e["at"])) for e in events)

    since = (NOW - timedelta(days=3, hours=1)).isoformat()
    until = (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")  # no zone: UTC
    window = gateway(database_url, "audit", "export", "--since", since, "--until", until)
    assert [e["contactId"] for e in _lines(window.stdout)] == ["c1", "c2"]

    pruned = gateway(database_url, "audit", "prune", AUDIT_RETENTION_DAYS="30")
    assert pruned.returncode == 0, pruned.stderr
    assert "deleted 1 audit events" in pruned.stdout and "AUDIT_RETENTION_DAYS=30" in pruned.stdout
    after = gateway(database_url, "audit", "export", "--since", "2000-01-01")
    assert [e["contactId"] for e in _lines(after.stdout)] == ["c1", "c2", "c3"]


def test_a_bad_date_is_one_clear_line(tmp_path: Path) -> None:
    result = gateway(
        f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}", "audit", "export", "--since", "May 1st"
    )
    assert result.returncode == 2
    assert "is not a date" in result.stderr and "Traceback" not in result.stderr
