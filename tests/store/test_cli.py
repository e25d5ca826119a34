"""``gateway db`` and ``gateway keys`` as an operator runs them: subprocesses on a temporary SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.store import Database, KeyStore, head_revision

ROOT = Path(__file__).resolve().parents[2]


class Gateway:
    def __init__(self, data_dir: Path, **env: str) -> None:
        self.url = f"sqlite+aiosqlite:///{data_dir / 'gateway.db'}"
        self.env = {**os.environ, "DATABASE_URL": self.url, "LOG_LEVEL": "DEBUG", **env}
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), self.env.get("PYTHONPATH")]))

    def __call__(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway.cli", *argv],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=ROOT,
            timeout=120,
        )


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    return Gateway(tmp_path)


def test_db_upgrade_then_current(gateway: Gateway) -> None:
    before = gateway("db", "current")
    assert before.returncode == 0, before.stderr
    assert "none (empty database)" in before.stdout and "gateway db upgrade" in before.stdout
    upgraded = gateway("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from empty to {head_revision()}" in upgraded.stdout
    again = gateway("db", "upgrade")
    assert f"already at revision {head_revision()}" in again.stdout
    current = gateway("db", "current")
    assert f"revision {head_revision()} (head)" in current.stdout


async def test_keys_create_list_revoke(gateway: Gateway) -> None:
    created = gateway("keys", "create", "--name", "crm-sync", "--scopes", "contacts:read,contacts:restore")
    assert created.returncode == 0, created.stderr
    credential = created.stdout.rstrip("\n").splitlines()[-1]
    assert credential.startswith("dcg_") and " " not in credential
    secret = credential.split("_", 2)[2]

    database = Database(gateway.url)
    try:
        principal = await KeyStore(database).verify(credential)
        assert principal is not None and principal.name == "crm-sync"
        assert principal.scopes == {"contacts:read", "contacts:restore"}

        temporary = gateway("keys", "create", "--name", "temp", "--scopes", "audit:read", "--expires-in", "7")
        assert temporary.returncode == 0, temporary.stderr
        listed = gateway("keys", "list")
        assert listed.returncode == 0, listed.stderr
        lines = listed.stdout.splitlines()
        assert lines[0].split()[:4] == ["ID", "NAME", "PREFIX", "STATE"]
        assert [line.split()[1] for line in lines[1:]] == ["crm-sync", "temp"]
        assert all(line.split()[3] == "active" for line in lines[1:])
        assert principal.id in listed.stdout
        outputs = listed.stdout + listed.stderr + created.stderr + temporary.stderr
        assert secret not in outputs and temporary.stdout.splitlines()[-1].split("_", 2)[2] not in outputs

        revoked = gateway("keys", "revoke", "crm-sync")
        assert revoked.returncode == 0, revoked.stderr
        assert "revoked key 'crm-sync'" in revoked.stdout
        assert await KeyStore(database).verify(credential) is None
        assert "revoked" in gateway("keys", "list").stdout
        assert "already revoked" in gateway("keys", "revoke", principal.id).stdout
    finally:
        await database.aclose()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["keys", "create", "--name", "x", "--scopes", "contacts:reed"], "unknown scope contacts:reed"),
        (["keys", "revoke", "nobody"], "no key has the name or id 'nobody'"),
    ],
)
def test_key_mistakes_are_one_clear_line(gateway: Gateway, argv: list[str], message: str) -> None:
    result = gateway(*argv)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_taken_name_is_refused(gateway: Gateway) -> None:
    assert gateway("keys", "create", "--name", "svc", "--scopes", "contacts:read").returncode == 0
    again = gateway("keys", "create", "--name", "svc", "--scopes", "contacts:read")
    assert again.returncode == 1 and "SERVICE_KEY_NAME_TAKEN" in again.stderr


def test_serve_refuses_a_database_behind_when_told_not_to_migrate(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path, DATABASE_MIGRATE_ON_START="false")
    refused = gateway("serve", "--port", "0")
    assert refused.returncode == 2
    assert "gateway db upgrade" in refused.stderr and "DATABASE_NOT_MIGRATED" in refused.stderr
    assert "Traceback" not in refused.stderr
    # keys commands follow the same rule rather than writing to a database of unknown shape
    assert gateway("keys", "list").returncode == 1


def test_an_unreachable_database_names_the_problem_but_not_the_password(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path)
    gateway.env["DATABASE_URL"] = "postgresql+asyncpg://gateway:s3cret-pw@127.0.0.1:1/gateway"
    result = gateway("keys", "list")
    assert result.returncode == 1
    assert "cannot be used" in result.stderr and "127.0.0.1:1" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout and "Traceback" not in result.stderr


async def test_a_key_created_with_limits_lists_and_carries_them(gateway: Gateway) -> None:
    created = gateway(
        "keys", "create", "--name", "batch", "--scopes", "contacts:read",
        "--requests-per-minute", "30", "--daily-cost", "4000",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert "limits: 30/min,4000/day" in created.stdout
    listed = gateway("keys", "list")
    assert "30/min,4000/day" in listed.stdout
    database = Database(gateway.url)
    try:
        principal = await KeyStore(database).verify(created.stdout.rstrip("\n").splitlines()[-1])
    finally:
        await database.aclose()
    assert principal is not None and principal.limits is not None
    assert (principal.limits.requests_per_minute, principal.limits.daily_cost) == (30, 4000)
    refused = gateway("keys", "create", "--name", "bad", "--scopes", "contacts:read", "--daily-cost", "0")
    assert refused.returncode == 1 and "limits must be positive" in refused.stderr
