"""/metrics over real sockets: parsed before and after a known sequence of requests, exact deltas.

The emulators count what reached them, so each upstream delta is checked against the providers' own
count rather than against a number written into the test.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from .conftest import Stack, StackFactory

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

PAGE = """
query Page { deletedContacts(first: 50) {
    totalCount
    edges { node { provider email } }
} }
"""


async def scrape(gateway: httpx.AsyncClient) -> Samples:
    response = await gateway.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


def deltas_by(before: Samples, after: Samples, name: str, label: str, **where: str) -> dict[str, float]:
    """Every non-zero change of ``name`` among samples matching ``where``, summed by ``label``."""
    found: Counter[str] = Counter()
    for (sample, labels), value in after.items():
        fields = dict(labels)
        if sample == name and all(fields.get(k) == v for k, v in where.items()):
            change = value - before.get((sample, labels), 0.0)
            if change:
                found[fields[label]] += change
    return dict(found)


def error_codes(body: Mapping[str, Any]) -> Counter[str]:
    return Counter(error["extensions"]["code"] for error in body.get("errors", ()))


async def test_requests_upstream_calls_and_errors_count_exactly(stack: Stack) -> None:
    await stack.reset_counts()
    before = await scrape(stack.gateway)

    page = await stack.graphql(PAGE)
    assert "errors" not in page
    bad = await stack.gateway.post("/graphql", json={"query": "{ deletedContacts(first: 1) { nope } }"})
    bad_codes = error_codes(bad.json())
    assert bad_codes

    after = await scrape(stack.gateway)
    counts = await stack.counts()

    assert delta(before, after, "gateway_graphql_requests_total", operation="Page", outcome="ok") == 1
    assert delta(before, after, "gateway_graphql_requests_total", operation="anonymous", outcome="error") == 1
    assert deltas_by(before, after, "gateway_graphql_requests_total", "operation") == {
        "Page": 1,
        "anonymous": 1,
    }
    assert delta(before, after, "gateway_graphql_request_duration_seconds_count", operation="Page") == 1
    assert deltas_by(before, after, "gateway_graphql_errors_total", "code") == dict(bad_codes)

    # Every call the providers saw, by method, and nothing else; all answered 200.
    gr_calls = deltas_by(before, after, "gateway_upstream_calls_total", "method", provider="getresponse")
    assert gr_calls == counts["gr"]["operations"]
    assert deltas_by(before, after, "gateway_upstream_calls_total", "status", provider="getresponse") == {
        "200": sum(counts["gr"]["operations"].values())
    }
    cc_calls = deltas_by(before, after, "gateway_upstream_calls_total", "status", provider="constant_contact")
    assert cc_calls == {"200": counts["cc"]["http_requests"]}
    assert set(
        deltas_by(before, after, "gateway_upstream_calls_total", "method", provider="constant_contact")
    ) == {"/v3/contacts"}
    assert deltas_by(before, after, "gateway_upstream_retries_total", "provider") == {}

    # Scrape-time state: both breakers closed, the whole CC quota but what was spent.
    for provider in ("constant_contact", "getresponse"):
        assert (
            after[
                ("gateway_upstream_breaker_state", frozenset({("provider", provider), ("state", "closed")}))
            ]
            == 1
        )
        assert (
            after[("gateway_upstream_breaker_state", frozenset({("provider", provider), ("state", "open")}))]
            == 0
        )
    budget = after[("gateway_upstream_daily_budget_remaining", frozenset({("provider", "constant_contact")}))]
    limit = after[("gateway_upstream_daily_budget_limit", frozenset({("provider", "constant_contact")}))]
    assert limit - budget == counts["cc"]["http_requests"]
    assert after[("gateway_paging_snapshot_entries", frozenset())] > 0


async def test_an_outage_opens_the_breaker_and_counts_failed_calls_and_retries(
    make_stack: StackFactory,
) -> None:
    async with make_stack(
        breaker_failure_threshold=2, retry_max_attempts=3, breaker_reset_seconds=600
    ) as stack:
        await stack.faults("gr", error_rate=1.0, error_status=503)
        await stack.reset_counts()
        before = await scrape(stack.gateway)

        body = await stack.graphql(PAGE)

        after = await scrape(stack.gateway)
        counts = await stack.counts()
        sent = counts["gr"]["http_requests"]
        # Two failures open the breaker: the third attempt is refused before it is sent.
        assert sent == 2
        # The listing is one JSON-RPC batch of two calls: each POST counts both, each retry both.
        batch = {"get_contacts_deleted", "get_contacts"}
        gr = {"provider": "getresponse"}
        assert deltas_by(before, after, "gateway_upstream_calls_total", "method", **gr) == dict.fromkeys(
            batch, sent
        )
        assert deltas_by(before, after, "gateway_upstream_calls_total", "status", **gr) == {"503": 2 * sent}
        retries = deltas_by(before, after, "gateway_upstream_retries_total", "method", **gr)
        assert retries == dict.fromkeys(batch, sent - 1)
        assert (
            after[
                (
                    "gateway_upstream_breaker_state",
                    frozenset({("provider", "getresponse"), ("state", "open")}),
                )
            ]
            == 1
        )
        assert (
            after[
                (
                    "gateway_upstream_breaker_state",
                    frozenset({("provider", "getresponse"), ("state", "closed")}),
                )
            ]
            == 0
        )
        assert (
            after[
                (
                    "gateway_upstream_breaker_state",
                    frozenset({("provider", "constant_contact"), ("state", "closed")}),
                )
            ]
            == 1
        )
        assert (
            delta(before, after, "gateway_graphql_requests_total", operation="Page", outcome="partial") == 1
        )
        assert deltas_by(before, after, "gateway_graphql_errors_total", "code") == dict(error_codes(body))


async def test_audit_events_written_are_counted_by_operation_and_phase(stack: Stack) -> None:
    truth = await stack.ground_truth()
    gone = {d["email"].lower() for d in truth["gr"]["deleted"]}
    email = next(c["email"] for c in truth["gr"]["contacts"].values() if c["email"].lower() not in gone)
    contacts = [
        {"provider": "GETRESPONSE", "email": email},
        {"provider": "GETRESPONSE", "email": "nobody-here@example.invalid"},
    ]
    before = await scrape(stack.gateway)
    body = await stack.graphql(
        "mutation($input: DeleteContactsInput!) { deleteContacts(input: $input) { results { status } } }",
        {"input": {"contacts": contacts}},
    )
    assert [r["status"] for r in body["data"]["deleteContacts"]["results"]] == ["DONE", "SKIPPED"]
    after = await scrape(stack.gateway)
    assert deltas_by(before, after, "gateway_audit_events_total", "phase", operation="deleteContacts") == {
        "intent": 1,  # the one contact written upstream, announced before the write
        "outcome": 2,  # both items' outcomes
    }
