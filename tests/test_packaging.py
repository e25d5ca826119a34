"""The gateway's distribution holds the gateway only: no emulator code, no seed-data dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_gateway_wheel_has_no_emulator_module_and_no_faker(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("deleted_contacts_gateway-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert any(n.startswith("gateway/core/") for n in names)
    assert not [n for n in names if "emulators" in n]
    requirements = [line.lower() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requirements
    assert not [r for r in requirements if "faker" in r]


def test_no_gateway_module_imports_the_emulators() -> None:
    offenders = []
    for path in (ROOT / "gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in ("emulators", "faker")]
    assert offenders == []


def test_demo_without_the_emulators_says_how_to_install_them() -> None:
    # None in sys.modules makes any import of the package fail as if it were not installed.
    code = (
        "import sys; sys.modules['emulators'] = None; from gateway.cli import main; sys.exit(main(['demo']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "pip install -e ./sandbox" in result.stderr
    assert "Traceback" not in result.stderr
