"""Installing the peer from the npm registry and composing its supergraph.

The peer's packages are pinned twice: exact versions in ``bench/peer/package.json`` and every
transitive version in ``bench/peer/package-lock.json``.  They are installed with ``npm ci`` into the
git-ignored ``.tools/peer/`` (as ``scripts/setup.sh`` installs the GraphiQL bundles and the audit
tools), and the install is skipped while a stamp of both files says nothing changed.

Composition (``mesh-compose``) runs ``bench/peer/mesh.config.ts`` against Constant Contact's official
Swagger file in ``tests/fixtures/``; the supergraph it writes names no host and no credential (Hive
Gateway reads them from its environment), so one composition serves every run.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

__all__ = ["PEER_DIR", "SWAGGER", "PeerInstallFailed", "compose", "hive_gateway_bin", "install"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PEER_DIR = ROOT / ".tools" / "peer"
SWAGGER = ROOT / "tests" / "fixtures" / "constant-contact-v3-swagger.yaml"
PINNED = ("package.json", "package-lock.json")
STAMP = ".bench-peer.sha256"


class PeerInstallFailed(RuntimeError):
    """npm or mesh-compose failed; the message holds the command and the end of its output."""


def _stamp() -> str:
    digest = hashlib.sha256()
    for name in (*PINNED, "mesh.config.ts"):
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()


def hive_gateway_bin(peer_dir: Path = PEER_DIR) -> Path:
    return peer_dir / "node_modules" / ".bin" / "hive-gateway"


async def _run(command: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> None:
    with open(log, "ab") as output:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=cwd, stdout=output, stderr=output, env={**os.environ, **(env or {})}
        )
        code = await process.wait()
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise PeerInstallFailed(f"{' '.join(command)} exited {code}:\n{tail}")


async def install(
    log_dir: Path, progress: Callable[[str], None], peer_dir: Path = PEER_DIR
) -> tuple[Path, bool]:
    """``npm ci`` of the pinned packages into ``peer_dir`` unless its stamp matches: ``(peer_dir, whether
    npm ci ran)``."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise PeerInstallFailed("node and npm are needed (scripts/setup.sh installs them: make setup)")
    want = _stamp()
    stamp = peer_dir / STAMP
    if stamp.is_file() and stamp.read_text() == want and hive_gateway_bin(peer_dir).exists():
        progress(f"peer: pinned packages present in {peer_dir}")
        return peer_dir, False
    peer_dir.mkdir(parents=True, exist_ok=True)
    for name in PINNED:
        shutil.copyfile(HERE / name, peer_dir / name)
    progress(f"peer: npm ci into {peer_dir} (pinned: bench/peer/package.json and package-lock.json)")
    quiet = {"npm_config_fund": "false", "npm_config_audit": "false", "npm_config_update_notifier": "false"}
    await _run(["npm", "ci", "--no-audit", "--no-fund"], peer_dir, log_dir / "peer-npm.log", quiet)
    if not hive_gateway_bin(peer_dir).exists():
        raise PeerInstallFailed(f"npm ci finished but {hive_gateway_bin(peer_dir)} is missing")
    stamp.write_text(want)
    return peer_dir, True


async def compose(peer_dir: Path, log_dir: Path, progress: Callable[[str], None]) -> Path:
    """The supergraph composed from ``mesh.config.ts`` (in a folder below ``peer_dir``, so its imports
    resolve to the pinned packages, and outside the folder Hive Gateway starts in)."""
    work = peer_dir / "compose"
    work.mkdir(exist_ok=True)
    shutil.copyfile(HERE / "mesh.config.ts", work / "mesh.config.ts")
    output = peer_dir / "supergraph.graphql"
    output.unlink(missing_ok=True)
    progress("peer: composing the supergraph (official Swagger file + GetResponse JSON-RPC operations)")
    await _run(
        [str(peer_dir / "node_modules" / ".bin" / "mesh-compose"), "-o", str(output)],
        work,
        log_dir / "peer-compose.log",
        {"PEER_CC_SWAGGER": str(SWAGGER)},
    )
    if not output.is_file():
        raise PeerInstallFailed(f"mesh-compose wrote no {output}")
    return output
