"""The layers import only downwards: http -> schema -> core <- providers.

The GraphQL layer translates and reports; it must not reach into a provider package (it learns of
provider failures through ``gateway.errors.ProviderError``, which carries the ``Provider`` enum).
Core is provider-neutral and knows nothing of GraphQL or HTTP.  Every ``import`` statement counts,
including the ones under ``if TYPE_CHECKING:`` and inside functions, since each one is a dependency a
reader has to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parent.parent / "gateway"

# package -> the packages its modules must never import (a name and everything under it)
# What a package that drives core's ports, and is plugged in by the composition root, never imports.
_BESIDE_CORE = (
    "gateway.schema",
    "gateway.http",
    "gateway.providers",
    "gateway.store",
    "gateway.bootstrap",
    "gateway.app",
)

FORBIDDEN = {
    "gateway.schema": ("gateway.providers", "gateway.http"),
    "gateway.core": ("gateway.schema", "gateway.http", "gateway.providers"),
    "gateway.http": ("gateway.providers",),
    "gateway.errors": ("gateway.schema", "gateway.http", "gateway.providers"),
    # Identities from outside (OIDC tokens) sit beside the providers and the store: below core's users.
    "gateway.identity": ("gateway.schema", "gateway.http", "gateway.providers", "gateway.store"),
    "gateway.store": ("gateway.schema", "gateway.http", "gateway.providers", "gateway.identity"),
    # The sync drives core's ports (sources, index, leadership); the composition root plugs in the
    # providers' sources and the store.
    "gateway.sync": (*_BESIDE_CORE, "gateway.observability"),
    # The deletion feed's delivery (issue 17) drives core's event log only; the edge and the
    # composition root plug in the store's outbox.
    "gateway.feed": (*_BESIDE_CORE, "gateway.sync", "gateway.observability"),
    # Webhooks drive core's ports (the outbox, the adapters' records) and a store port of their own,
    # which the store implements; the composition root plugs both in.
    "gateway.webhooks": (*_BESIDE_CORE, "gateway.sync", "gateway.observability"),
    # Observability is a leaf the edge and the composition root plug in: it meets the providers'
    # observer protocol structurally and reads core's services, nothing above or beside them.
    "gateway.observability": (
        "gateway.http",
        "gateway.schema",
        "gateway.providers",
        "gateway.store",
        "gateway.bootstrap",
        "gateway.app",
    ),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(GATEWAY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module an ``import`` in ``source`` (the text of ``module``) names, relative imports
    resolved, with its line."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, module)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # `from gateway import providers` imports a package just as `import gateway.providers` does
            found.append((node.lineno, target))
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def _is_under(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def _files(package: str) -> list[Path]:
    path = GATEWAY.parent.joinpath(*package.split("."))
    return sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package: str) -> None:
    files = _files(package)
    assert files, f"no modules found for {package}"
    violations = [
        f"{path.relative_to(GATEWAY.parent)}:{line} imports {name}"
        for path in files
        for line, name in imported_modules(
            path.read_text(), _module_name(path), is_package=path.name == "__init__.py"
        )
        if any(_is_under(name, forbidden) for forbidden in FORBIDDEN[package])
    ]
    assert violations == []


def test_the_import_finder_sees_every_kind_of_import() -> None:
    # A checker that sees nothing passes everything: prove it catches each spelling.
    source = (
        "from typing import TYPE_CHECKING\n"
        "import gateway.providers.errors\n"
        "from ..providers import resilience\n"
        "from gateway import providers\n"
        "if TYPE_CHECKING:\n"
        "    from gateway.providers.errors import NotFound\n"
        "def later():\n"
        "    from ..http.endpoint import GraphQLEndpoint\n"
    )
    names = {name for _, name in imported_modules(source, "gateway.schema.probe")}
    assert {
        "gateway.providers.errors",
        "gateway.providers.resilience",
        "gateway.providers",
        "gateway.providers.errors.NotFound",
        "gateway.http.endpoint",
    } <= names
