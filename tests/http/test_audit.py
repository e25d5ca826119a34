"""The graphql-http audit suite (npm), run with node against the endpoint under a real uvicorn server.

Every MUST and SHOULD audit has to pass, and so does every MAY the endpoint implements (all of them,
today).  The audit package is installed by ``scripts/setup.sh audit-tools`` into ``.tools/``; without
it (or without node) the test is skipped -- except in CI, where a missing tool is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.serving import BackgroundServer

from .conftest import Edge, make_app, make_edge

ROOT = Path(__file__).resolve().parents[2]
TOOLS_DIR = ROOT / ".tools"
SCRIPT = Path(__file__).with_name("graphql_http_audit.cjs")

pytestmark = pytest.mark.npm


def _require_tools() -> str:
    node = shutil.which("node")
    installed = (TOOLS_DIR / "node_modules" / "graphql-http" / "package.json").is_file()
    if node and installed:
        return node
    missing = "node" if not node else "graphql-http (run `bash scripts/setup.sh audit-tools`)"
    if os.environ.get("CI"):
        pytest.fail(f"{missing} is missing in CI")
    pytest.skip(f"{missing} is missing")


@pytest.fixture(scope="module")
def audit_results() -> Iterator[list[dict[str, str]]]:
    node = _require_tools()
    edge: Edge = make_edge()
    with BackgroundServer(make_app({"edge": edge})) as server:
        completed = subprocess.run(
            [node, str(SCRIPT), f"{server.url}/graphql", str(TOOLS_DIR)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr
    yield json.loads(completed.stdout)


def test_the_audit_ran_every_audit(audit_results: list[dict[str, str]]) -> None:
    levels = [result["name"].split(" ", 1)[0] for result in audit_results]
    assert levels.count("MUST") >= 10 and levels.count("SHOULD") >= 20
    assert len({result["id"] for result in audit_results}) == len(audit_results)


@pytest.mark.parametrize("level", ["MUST", "SHOULD", "MAY"])
def test_every_audit_passes(audit_results: list[dict[str, str]], level: str) -> None:
    failed = [r for r in audit_results if r["name"].startswith(f"{level} ") and r["status"] != "ok"]
    assert failed == [], json.dumps(failed, indent=2)
