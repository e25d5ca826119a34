"""A whole GraphQL request ends by ``REQUEST_DEADLINE_SECONDS``, whatever one slow provider does.

GetResponse's emulator answers only after 12 s, well within the provider timeout set here (15 s), so
without a deadline the request would wait for it.  With a 3 s deadline the answer comes long before
GetResponse's, with Constant Contact's contacts and GetResponse reported as ``PROVIDER_TIMEOUT``.
"""

from __future__ import annotations

import time

from .conftest import StackFactory

LIST = """
{ deletedContacts(first: 20) {
    sources { provider ok status }
    edges { node { provider } }
} }
"""
DEADLINE = 3.0
GETRESPONSE_LATENCY = 12.0


async def test_a_provider_slower_than_the_deadline_is_a_timeout_beside_the_others_data(
    make_stack: StackFactory,
) -> None:
    async with make_stack(
        request_deadline_seconds=DEADLINE,
        provider_total_timeout=15.0,
        provider_read_timeout=15.0,
        retry_budget_seconds=5.0,
    ) as stack:
        await stack.faults("gr", latency_ms=int(GETRESPONSE_LATENCY * 1000))
        started = time.monotonic()
        body = await stack.graphql(LIST)
        elapsed = time.monotonic() - started
    # Generous slack for a busy machine, yet far below the slow provider's own answer.
    assert elapsed < GETRESPONSE_LATENCY - 4, elapsed
    sources = {s["provider"]: s for s in body["data"]["deletedContacts"]["sources"]}
    assert sources["GETRESPONSE"] == {"provider": "GETRESPONSE", "ok": False, "status": "PROVIDER_TIMEOUT"}
    assert sources["CONSTANT_CONTACT"]["status"] == "OK"
    providers = {e["node"]["provider"] for e in body["data"]["deletedContacts"]["edges"]}
    assert providers == {"CONSTANT_CONTACT"}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "PROVIDER_TIMEOUT"
    assert error["extensions"]["provider"] == "GETRESPONSE"
