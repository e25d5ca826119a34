"""GraphiQL, served entirely by the gateway: the page, its script and every third-party asset.

Nothing is loaded from a CDN, so GraphiQL works on a machine with no internet access and the page's
Content-Security-Policy can forbid every other origin.  The third-party bundles (GraphiQL, React,
ReactDOM; pinned in ``gateway/static/graphiql/vendor.json``) are fetched from the npm registry by
``scripts/setup.sh`` into ``gateway/static/graphiql/vendor/``, which git ignores; when they are
missing the page says how to install them instead of failing.

Routes (``graphiql_routes``): ``GET /graphiql`` (the page; ``GET /graphql`` from a browser gets the same
page through the GraphQL endpoint) and ``GET /graphql/assets/{name}`` (a fixed list of files, nothing
else under the static directory is reachable).  The page refers to its assets with relative URLs, so
it also works when the app is mounted below a prefix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

__all__ = ["ASSETS_PATH", "STATIC_DIR", "GraphiQL", "default_graphiql", "graphiql_routes"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "graphiql"
ASSETS_PATH = "/graphql/assets"

# The gateway's own files next to the page; vendor files are added from vendor.json.
_OWN_ASSETS = ("graphiql-app.js", "graphiql-app.css")
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
# 'unsafe-inline' styles: GraphiQL's React components set style attributes.  Fonts and a few icons are
# data: URIs inside graphiql.min.css.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": _CSP,
    "Cache-Control": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@dataclass
class _File:
    content: bytes
    etag: str


@dataclass
class GraphiQL:
    """The page and its assets, read from ``static_dir`` (own files) and ``vendor_dir`` (npm bundles)."""

    static_dir: Path = STATIC_DIR
    vendor_dir: Path | None = None
    default_headers: Mapping[str, str] | None = field(default=None, repr=False)
    """Headers the page's header editor starts with (``gateway demo`` puts its key there); the
    page is then not cached anywhere and the headers are not persisted in the browser."""
    _cache: dict[Path, _File] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.vendor_dir is None:
            self.vendor_dir = self.static_dir / "vendor"

    @cached_property
    def vendor_files(self) -> dict[str, Path]:
        """Served name -> path of every vendored file, per ``vendor.json``."""
        assert self.vendor_dir is not None
        manifest = json.loads((self.static_dir / "vendor.json").read_text(encoding="utf-8"))
        return {name: self.vendor_dir / name for package in manifest["packages"] for name in package["files"]}

    def assets_installed(self) -> bool:
        return all(path.is_file() for path in self.vendor_files.values())

    def page(self) -> Response:
        """The GraphiQL page, or (503) a page saying how to install the missing assets."""
        if self.assets_installed():
            name, status = "index.html", 200
        else:
            name, status = "missing-assets.html", 503
        html = self._read(self.static_dir / name)
        assert html is not None, f"{name} is part of the package"
        content, headers = html.content, _PAGE_HEADERS
        if self.default_headers and status == 200:
            # A meta tag, not an inline script: the page's CSP allows scripts from this origin only.
            meta = (
                f'<meta name="gateway-default-headers" content="{escape(json.dumps(self.default_headers))}">'
            )
            content = content.replace(b"</head>", meta.encode() + b"\n</head>", 1)
            headers = {**_PAGE_HEADERS, "Cache-Control": "no-store"}
        return Response(content, status_code=status, media_type="text/html; charset=utf-8", headers=headers)

    def _asset_path(self, name: str) -> Path | None:
        if name in _OWN_ASSETS:
            return self.static_dir / name
        return self.vendor_files.get(name)

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = self._asset_path(name)
        file = self._read(path) if path is not None else None
        if path is None or file is None:
            return Response(b"Not found.", status_code=404, media_type="text/plain; charset=utf-8")
        headers = {
            "ETag": file.etag,
            "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff",
        }
        if request.headers.get("if-none-match") == file.etag:
            return Response(status_code=304, headers=headers)
        return Response(file.content, media_type=_MEDIA_TYPES[path.suffix], headers=headers)

    async def page_endpoint(self, request: Request) -> Response:
        return self.page()

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/graphiql", self.page_endpoint, methods=["GET"]),
            Route(f"{ASSETS_PATH}/{{name}}", self.asset, methods=["GET"]),
        ]

    def _read(self, path: Path) -> _File | None:
        """The file's content, cached once found (a missing file is looked for again next time)."""
        if (cached := self._cache.get(path)) is not None:
            return cached
        try:
            content = path.read_bytes()
        except OSError:
            return None
        file = _File(content, f'"{hashlib.sha256(content).hexdigest()[:32]}"')
        self._cache[path] = file
        return file


@cache
def default_graphiql() -> GraphiQL:
    return GraphiQL()


def graphiql_routes(graphiql: GraphiQL | None = None) -> list[BaseRoute]:
    return (graphiql or default_graphiql()).routes()
