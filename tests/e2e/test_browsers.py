"""Browsers and locked-down deployments, over real HTTP: CORS for configured origins only, gzip for
clients that accept it, and introspection that can be switched off without field suggestions leaking
the schema back."""

from __future__ import annotations

import gzip

import httpx

from .conftest import Stack, StackFactory

ALLOWED = "https://support.example"
PAGE = "{ deletedContacts(first: 300) { edges { node { id email name deletedOn reason } } } }"


def preflight(origin: str) -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
    }


async def test_a_preflight_from_an_allowed_origin_passes_and_from_another_is_refused(
    make_stack: StackFactory,
) -> None:
    async with make_stack(cors_allow_origins=[ALLOWED]) as stack, stack.client() as browser:
        allowed = await browser.options("/graphql", headers=preflight(ALLOWED))
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        refused = await browser.options("/graphql", headers=preflight("https://evil.example"))
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        answered = await stack.gateway.post(
            "/graphql", json={"query": "{ providers { provider } }"}, headers={"origin": ALLOWED}
        )
        assert answered.status_code == 200
        assert answered.headers["access-control-allow-origin"] == ALLOWED
        assert "x-request-id" in answered.headers["access-control-expose-headers"].lower()
        foreign = await stack.gateway.post(
            "/graphql",
            json={"query": "{ providers { provider } }"},
            headers={"origin": "https://evil.example"},
        )
        assert "access-control-allow-origin" not in foreign.headers


async def test_without_configured_origins_no_cors_headers_are_sent(stack: Stack) -> None:
    async with stack.client() as browser:
        response = await browser.options("/graphql", headers=preflight(ALLOWED))
    assert "access-control-allow-origin" not in response.headers


async def test_a_large_page_is_gzipped_for_a_client_that_accepts_it(stack: Stack) -> None:
    plain = await stack.gateway.post(
        "/graphql", json={"query": PAGE}, headers={"accept-encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    async with httpx.AsyncClient(base_url=stack.gateway.base_url, headers=stack.gateway.headers) as raw:
        request = raw.build_request(
            "POST", "/graphql", json={"query": PAGE}, headers={"accept-encoding": "gzip"}
        )
        compressed = await raw.send(request, stream=True)
        body = b"".join([chunk async for chunk in compressed.aiter_raw()])
        await compressed.aclose()
    assert compressed.headers["content-encoding"] == "gzip"
    assert len(body) < len(plain.content) / 3
    assert gzip.decompress(body) == plain.content


async def test_introspection_off_refuses_introspection_and_suggests_nothing(make_stack: StackFactory) -> None:
    typo = "{ deletedContactz { totalCount } }"
    async with make_stack() as stack:
        suggested = (await stack.gateway.post("/graphql", json={"query": typo})).json()
        assert "Did you mean" in suggested["errors"][0]["message"]
    async with make_stack(introspection=False) as stack:
        await stack.reset_counts()
        introspected = await stack.gateway.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert introspected.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        typoed = (await stack.gateway.post("/graphql", json={"query": typo})).json()
        [error] = typoed["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "Did you mean" not in error["message"] and "deletedContacts" not in error["message"]
        assert "deletedContactz" in error["message"]
        assert (await stack.graphql("{ providers { provider } }"))["data"]["providers"]
        counts = await stack.counts()
        assert counts["cc"]["http_requests"] == 0 and counts["gr"]["http_requests"] == 0
