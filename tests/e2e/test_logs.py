"""Logs over real sockets: JSON line by line, one access line per request, no secret, no address.

The gateway runs in this process (another thread), so the root logger configured here is the one
its lines go through, exactly as ``gateway serve`` configures it.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from gateway.config import Settings
from gateway.observability.logs import configure_logging

from .conftest import CC_TOKEN, GR_KEY, StackFactory

BY_EMAIL = """
query ByEmail($emails: [String!]!) {
  deletedContactsByEmail(emails: $emails) { email deletedContacts { provider email } }
}
"""
PAGE = "query Page { deletedContacts(first: 50) { edges { node { provider email } } } }"
ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9-]+\.[A-Za-z0-9.-]+")


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_json_logs_mask_addresses_keep_secrets_out_and_log_every_request(
    make_stack: StackFactory, captured: io.StringIO
) -> None:
    async with make_stack() as stack:
        # As `gateway serve` does, with the stack's own credentials among the secrets to keep out.
        configure_logging(
            Settings(
                log_format="json",
                log_level="DEBUG",
                constant_contact_access_token=CC_TOKEN,
                getresponse_api_key=GR_KEY,
            ),
            stream=captured,
        )
        page = await stack.graphql(PAGE)
        addresses = [edge["node"]["email"] for edge in page["data"]["deletedContacts"]["edges"]][:3]
        found = await stack.graphql(BY_EMAIL, {"emails": addresses})
        assert found["data"]["deletedContactsByEmail"]
        missing = await stack.gateway.get(f"/nothing/{addresses[0]}", headers={"x-request-id": "caller-7"})
        assert missing.status_code == 404

    lines = _lines(captured)  # every line parses on its own
    text = captured.getvalue()
    assert CC_TOKEN not in text and GR_KEY not in text
    assert ADDRESS.findall(text) == []
    assert not any(address in text for address in addresses)
    assert any("***" in line.get("path", "") for line in lines)  # the masked address is still there

    access = [line for line in lines if line["logger"] == "gateway.access"]
    assert [(a["method"], a["status"], a["operation"]) for a in access] == [
        ("POST", 200, "Page"),
        ("POST", 200, "ByEmail"),
        ("GET", 404, "-"),
    ]
    assert access[0]["upstream_calls"] > 0 and access[2]["upstream_calls"] == 0
    # A first page at both providers, then three addresses at both: the query cost model's prices.
    assert [line["query_cost"] for line in access] == [100, 6, "-"]
    assert access[2]["correlation_id"] == "caller-7"
    assert access[2]["request_id"] == missing.headers["x-request-id"]
    # The stack's key on the two GraphQL requests; a 404 never reaches authentication.
    assert [line["principal"].split(":")[0] for line in access] == ["key", "key", "-"]
    for line in access:
        assert isinstance(line["duration_ms"], float)
    # Lines written while a request was answered carry its id (the providers' debug lines here).
    request_ids = {line["request_id"] for line in access}
    during = [line for line in lines if line["logger"].startswith("gateway.providers")]
    assert during and all(line.get("request_id") in request_ids for line in during)


async def test_every_response_carries_a_request_id(make_stack: StackFactory) -> None:
    async with make_stack() as stack:
        for path in ("/healthz", "/readyz", "/metrics", "/no-such-page"):
            response = await stack.gateway.get(path)
            assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), path
        response = await stack.gateway.get("/healthz", headers={"x-request-id": "mine-1"})
        assert response.headers["x-correlation-id"] == "mine-1"


async def test_log_pii_shows_addresses(make_stack: StackFactory, captured: io.StringIO) -> None:
    async with make_stack() as stack:
        configure_logging(Settings(log_format="json", log_pii=True), stream=captured)
        address = "Someone.Else@example.org"
        assert (await stack.gateway.get(f"/nothing/{address}")).status_code == 404
    (access,) = [line for line in _lines(captured) if line["logger"] == "gateway.access"]
    assert access["path"] == f"/nothing/{address}"
