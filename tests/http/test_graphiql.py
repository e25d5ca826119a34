"""GraphiQL served by the gateway itself: the page, every asset it names, and the missing-assets page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from gateway.core.principals import Caller, Principal
from gateway.http import GraphiQL, default_graphiql
from gateway.http.graphiql import STATIC_DIR
from gateway.schema.context import GatewayContext
from tests.bodies import without_cost

from .conftest import Edge, edge_schema, make_app

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for attribute in ("src", "href"):
            if named.get(attribute):
                self.urls.append((tag, str(named[attribute])))


def page_refs(html: str) -> list[tuple[str, str]]:
    parser = _Refs()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module", autouse=True)
def _assets_installed() -> None:
    assert default_graphiql().assets_installed(), (
        "GraphiQL assets missing: run `bash scripts/setup.sh graphiql`"
    )


@pytest.mark.parametrize("path", ["/graphql", "/graphiql"])
async def test_browsers_get_the_graphiql_page(http: httpx.AsyncClient, path: str) -> None:
    response = await http.get(path, headers={"accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert '<div id="graphiql">' in response.text


async def test_every_script_and_stylesheet_is_same_origin_and_served(http: httpx.AsyncClient) -> None:
    page_url = str(http.base_url.join("/graphql"))
    page = await http.get("/graphql", headers={"accept": BROWSER_ACCEPT})
    refs = page_refs(page.text)
    assert {tag for tag, _ in refs} == {"script", "link"}
    assert len([1 for tag, _ in refs if tag == "script"]) == 4
    origin = urlsplit(page_url)[:2]
    for tag, ref in refs:
        url = urljoin(page_url, ref)
        assert urlsplit(url)[:2] == origin, f"{ref} is not served by the gateway"
        asset = await http.get(url)
        assert asset.status_code == 200, url
        expected = "text/javascript" if tag == "script" else "text/css"
        assert asset.headers["content-type"].startswith(expected)
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert len(asset.content) > 100


async def test_stylesheets_pull_nothing_from_elsewhere(http: httpx.AsyncClient) -> None:
    for name in ("graphiql.min.css", "graphiql-app.css"):
        css = (await http.get(f"/graphql/assets/{name}")).text
        assert "@import" not in css
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
            assert url.startswith("data:"), f"{name} loads {url}"


async def test_assets_revalidate_with_etags(http: httpx.AsyncClient) -> None:
    first = await http.get("/graphql/assets/graphiql.min.js")
    etag = first.headers["etag"]
    again = await http.get("/graphql/assets/graphiql.min.js", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/graphql/assets/vendor.json",
        "/graphql/assets/index.html",
        "/graphql/assets/nope.js",
        "/graphql/assets/..%2Fvendor.json",
        "/graphql/assets/vendor%2Fgraphiql.min.js",
        "/graphql/assets/.vendor.json.sha256",
    ],
)
async def test_only_listed_assets_are_reachable(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path)).status_code == 404


async def test_a_browser_with_a_query_gets_the_result_not_the_page(http: httpx.AsyncClient) -> None:
    response = await http.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"accept": BROWSER_ACCEPT}
    )
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"__typename": "Query"}}


async def test_api_clients_without_a_query_get_a_400_not_the_page(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_missing_assets_give_a_page_that_says_how_to_install_them(tmp_path: Path, edge: Edge) -> None:
    graphiql = GraphiQL(vendor_dir=tmp_path / "not-installed")
    app = make_app({"edge": edge}, graphiql=graphiql)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client:
        for path in ("/graphql", "/graphiql"):
            page = await client.get(path, headers={"accept": BROWSER_ACCEPT})
            assert page.status_code == 503
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert "make setup" in page.text and "bash scripts/setup.sh graphiql" in page.text
        assert (await client.get("/graphql/assets/graphiql.min.js")).status_code == 404
        assert (await client.get("/graphql/assets/graphiql-app.css")).status_code == 200
        api = await client.post("/graphql", json={"query": "{ __typename }"})
        assert without_cost(api.json()) == {"data": {"__typename": "Query"}}


def default_query() -> str:
    script = (STATIC_DIR / "graphiql-app.js").read_text(encoding="utf-8")
    block = script.split("var defaultQuery = [", 1)[1].split("].join", 1)[0]
    lines = re.findall(r"^\s*'(.*)',?$", block, flags=re.MULTILINE)
    return "\n".join(line.replace("\\'", "'") for line in lines)


async def test_the_default_query_is_a_valid_deleted_contacts_query(edge: Edge) -> None:
    query = default_query()
    assert "deletedContacts(" in query
    context = GatewayContext.create(edge.services, Caller(Principal.local(), "req-default-query"))
    result = await edge_schema().execute(query, context_value=context)
    assert result.errors is None
    assert result.data is not None and result.data["deletedContacts"]["totalCount"] == 20


def test_default_headers_are_prefilled_escaped_and_never_cached() -> None:
    graphiql = GraphiQL(default_headers={"Authorization": 'Bearer dcg_x_"<script>'})
    response = graphiql.page()
    if response.status_code != 200:
        pytest.skip("the GraphiQL assets are not installed (scripts/setup.sh installs them)")
    html = bytes(response.body).decode()
    assert '<meta name="gateway-default-headers" content="{&quot;Authorization&quot;: ' in html
    assert "<script>" not in html.split("gateway-default-headers", 1)[1].split(">", 1)[0]
    assert response.headers["cache-control"] == "no-store"
    plain = GraphiQL().page()
    assert b"gateway-default-headers" not in bytes(plain.body)
    assert plain.headers["cache-control"] == "no-cache"
