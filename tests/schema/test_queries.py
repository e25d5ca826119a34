"""The GraphQL contract, over fake ports: shapes, order, paging, typed errors, partial failures."""

from __future__ import annotations

from gateway.core.model import Provider
from gateway.providers.errors import ProviderTimeout, RateLimited

PAGE = """
query Page($first: Int, $after: String, $filter: DeletedContactFilterInput) {
  deletedContacts(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    sources { provider ok status count ageSeconds retryAfter }
    edges { cursor node { id provider contactId email deletedOn deletedAt reason restorable raw
      ... on GetResponseDeletedContact { campaignId cycleDay }
      ... on ConstantContactDeletedContact { firstName permissionToSend } } }
  }
}
"""


async def test_pages_walk_every_contact_once_in_merge_order(run) -> None:
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        result = await run(PAGE, {"first": 7, "after": after})
        assert result.errors is None
        connection = result.data["deletedContacts"]
        seen += [(e["node"]["deletedOn"], e["node"]["id"]) for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert len(seen) == connection["totalCount"] == 61
    assert len({node_id for _, node_id in seen}) == 61
    days = [day for day, _ in seen]
    assert days == sorted(days, reverse=True)


async def test_provider_specific_fields_and_raw(run) -> None:
    result = await run(PAGE, {"first": 100})
    nodes = [e["node"] for e in result.data["deletedContacts"]["edges"]]
    cc = next(n for n in nodes if n["provider"] == "CONSTANT_CONTACT")
    gr = next(n for n in nodes if n["provider"] == "GETRESPONSE")
    assert cc["firstName"] == "Ann" and cc["deletedAt"] is None and cc["reason"] == "UNKNOWN"
    assert gr["campaignId"] == "camp1" and gr["deletedAt"] is not None and isinstance(gr["raw"], dict)
    complaint = next(n for n in nodes if n["reason"] == "COMPLAINT")
    assert complaint["restorable"] is False


async def test_one_provider_down_still_answers_with_typed_error(run, ports) -> None:
    ports[Provider.CONSTANT_CONTACT].failure = RateLimited(
        "Too Many Requests", provider=Provider.CONSTANT_CONTACT, kind="throttled", retry_after=1.5
    )
    result = await run(PAGE, {"first": 100})
    connection = result.data["deletedContacts"]
    assert {e["node"]["provider"] for e in connection["edges"]} == {"GETRESPONSE"}
    sources = {s["provider"]: s for s in connection["sources"]}
    assert sources["CONSTANT_CONTACT"]["ok"] is False
    assert sources["CONSTANT_CONTACT"]["status"] == "PROVIDER_RATE_LIMITED"
    assert sources["GETRESPONSE"]["status"] == "OK"
    (error,) = result.errors
    assert error.extensions == {
        "code": "PROVIDER_RATE_LIMITED",
        "provider": "CONSTANT_CONTACT",
        "retryAfter": 1.5,
    }
    assert error.path == ["deletedContacts"]


async def test_timeouts_are_reported_as_provider_timeout(run, ports) -> None:
    ports[Provider.GETRESPONSE].failure = ProviderTimeout(
        "no answer within 1s", provider=Provider.GETRESPONSE
    )
    result = await run(PAGE, {"first": 5})
    assert [e.extensions["code"] for e in result.errors] == ["PROVIDER_TIMEOUT"]
    assert result.data["deletedContacts"]["totalCount"] == 30


async def test_unexpected_exceptions_are_masked_with_a_request_id(run, ports, caplog) -> None:
    ports[Provider.GETRESPONSE].crash = RuntimeError("secret internals")
    result = await run(PAGE, {"first": 5})
    (error,) = result.errors
    assert error.message == "Unexpected error."
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-test"}
    assert "secret internals" not in str(result.errors)
    assert "req-test" in caplog.text and "secret internals" in caplog.text


async def test_bad_inputs_get_typed_errors(run) -> None:
    cases = {
        "PAGE first too big": (PAGE, {"first": 1000}, "BAD_USER_INPUT"),
        "first zero": (PAGE, {"first": 0}, "BAD_USER_INPUT"),
        "malformed cursor": (PAGE, {"after": "not-a-cursor"}, "INVALID_CURSOR"),
        "bad date": (PAGE, {"filter": {"deletedOn": {"from": "2024-13-01"}}}, "BAD_USER_INPUT"),
        "inverted range": (
            PAGE,
            {"filter": {"deletedOn": {"from": "2024-02-01", "to": "2024-01-01"}}},
            "BAD_USER_INPUT",
        ),
        "unknown provider": (PAGE, {"filter": {"providers": ["MAILCHIMP"]}}, "BAD_USER_INPUT"),
        "bad id": ('{ deletedContact(id: "@@@") { id } }', None, "INVALID_ID"),
        "not a contact id": ('{ node(id: "Rm9vOmJhcg") { id } }', None, "INVALID_ID"),
        "syntax": ("{ deletedContacts( }", None, "GRAPHQL_PARSE_FAILED"),
        "unknown field": ("{ nope }", None, "GRAPHQL_VALIDATION_FAILED"),
    }
    for name, (query, variables, code) in cases.items():
        result = await run(query, variables)
        assert result.errors, name
        assert [e.extensions["code"] for e in result.errors] == [code], (name, result.errors)


async def test_cursor_from_another_filter_is_rejected_and_expired_cursor_is_typed(run, services) -> None:
    first = await run(PAGE, {"first": 2})
    cursor = first.data["deletedContacts"]["pageInfo"]["endCursor"]
    other = await run(PAGE, {"first": 2, "after": cursor, "filter": {"providers": ["GETRESPONSE"]}})
    assert other.errors[0].extensions["code"] == "INVALID_CURSOR"
    await services.snapshots.aclose()  # forget every snapshot: as if the TTL had passed
    expired = await run(PAGE, {"first": 2, "after": cursor})
    assert expired.errors[0].extensions["code"] == "CURSOR_EXPIRED"


async def test_depth_and_alias_limits(run) -> None:
    aliases = "{ " + " ".join(f"a{i}: providers {{ provider }}" for i in range(40)) + " }"
    result = await run(aliases)
    assert result.errors and result.errors[0].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_node_lookups_batch_per_provider(run, ports) -> None:
    page = await run(PAGE, {"first": 20})
    ids = [e["node"]["id"] for e in page.data["deletedContacts"]["edges"]]
    for port in ports.values():
        port.calls.clear()
    # Fewer ids than a listing costs: asked by id.  At least as many: one listing answers them all.
    ports[Provider.GETRESPONSE].cost = 100
    ports[Provider.CONSTANT_CONTACT].cost = 1
    result = await run("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert [n["id"] for n in result.data["nodes"]] == ids
    assert ports[Provider.GETRESPONSE].calls == ["get_deleted"]
    assert ports[Provider.CONSTANT_CONTACT].calls == ["list_deleted"]


async def test_nested_campaign_and_message_are_batched(run, ports) -> None:
    query = """{ deletedContacts(first: 100, filter: {providers: [GETRESPONSE]}) { edges { node {
      ... on GetResponseDeletedContact { campaign { name } message { subject } } } } } }"""
    result = await run(query)
    assert result.errors is None
    calls = ports[Provider.GETRESPONSE].calls
    assert calls.count("catalog_by_ids") == 1


async def test_by_email_is_case_insensitive_and_deduplicated(run, ports) -> None:
    query = (
        "query($e: [String!]!) { deletedContactsByEmail(emails: $e) { email deletedContacts { contactId } } }"
    )
    result = await run(query, {"e": ["PERSON1@example.com", "person1@EXAMPLE.com", "nobody@example.com"]})
    answer = result.data["deletedContactsByEmail"]
    assert [len(a["deletedContacts"]) for a in answer] == [1, 1, 0]
    assert ports[Provider.GETRESPONSE].calls == ["find_deleted_by_email"]


async def test_providers_field(run) -> None:
    result = await run("{ providers { provider configured healthy circuitState } }")
    assert {p["provider"] for p in result.data["providers"]} == {"CONSTANT_CONTACT", "GETRESPONSE"}
