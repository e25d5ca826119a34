"""auditEvents over fake ports and the memory trail: the events of mutations, filtered and paged, behind
the audit:read scope."""

from __future__ import annotations

from typing import Any

from gateway.core.principals import Caller, Principal, PrincipalKind, Scope
from gateway.core.services import Services
from gateway.schema.context import GatewayContext
from gateway.schema.schema import GatewaySchema

from .test_mutations import DELETE, RESTORE, gr_id

EVENTS = """
query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      id at operation provider index contactId email status code message overrideReason
      requestId correlationId idempotencyKey dryRun replay principal { kind id name }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def _as(
    schema: GatewaySchema, services: Services, principal: Principal, query: str, variables: dict[str, Any]
) -> Any:
    context = GatewayContext.create(services, Caller(principal, "req-as", "corr-as"))
    return await schema.execute(query, variable_values=variables, context_value=context)


async def test_mutations_leave_events_readable_with_filters_and_pages(run, services, gateway_schema) -> None:
    await run(
        RESTORE,
        {"input": {"contacts": [{"id": gr_id(1)}, {"id": gr_id(99)}, {"id": "nonsense"}]}},
    )
    await run(
        DELETE, {"input": {"contacts": [{"provider": "GETRESPONSE", "contactId": "ge0003"}], "dryRun": True}}
    )

    everything = await run(EVENTS, {"first": 10})
    assert everything.errors is None
    nodes = [e["node"] for e in everything.data["auditEvents"]["edges"]]
    # Events of one mutation share their time; their order among themselves is the trail's (by id).
    assert sorted((n["operation"], n["index"], n["status"], n["code"] or "") for n in nodes) == [
        ("deleteContacts", 0, "SKIPPED", "DRY_RUN"),
        ("restoreContacts", 0, "DONE", ""),
        ("restoreContacts", 1, "SKIPPED", "CONSENT_REQUIRED"),
        ("restoreContacts", 2, "SKIPPED", "INVALID_ID"),
    ]
    assert nodes[0]["operation"] == "deleteContacts"  # newest first
    first = nodes[0]
    assert first["principal"] == {"kind": "LOCAL", "id": "local", "name": "local (authentication off)"}
    assert (first["requestId"], first["dryRun"], first["replay"]) == ("req-test", True, False)

    restores = await run(EVENTS, {"filter": {"operation": "restoreContacts", "provider": "GETRESPONSE"}})
    assert {e["node"]["contactId"] for e in restores.data["auditEvents"]["edges"]} == {"ge0001", "ge0099"}
    by_email = await run(EVENTS, {"filter": {"email": "PERSON99@example.com"}})
    assert [e["node"]["contactId"] for e in by_email.data["auditEvents"]["edges"]] == ["ge0099"]
    nobody = await run(EVENTS, {"filter": {"principal": "someone else", "from": "2020-01-01T00:00:00Z"}})
    assert nobody.data["auditEvents"]["edges"] == []

    page = await run(EVENTS, {"first": 3})
    info = page.data["auditEvents"]["pageInfo"]
    assert info["hasNextPage"] is True
    rest = await run(EVENTS, {"first": 3, "after": info["endCursor"]})
    assert rest.data["auditEvents"]["pageInfo"]["hasNextPage"] is False
    ids = [e["node"]["id"] for e in page.data["auditEvents"]["edges"] + rest.data["auditEvents"]["edges"]]
    assert ids == [n["id"] for n in nodes]


async def test_without_audit_read_the_field_is_forbidden(services, gateway_schema) -> None:
    reader = Principal(PrincipalKind.KEY, "k-r", "reader", frozenset({Scope.CONTACTS_READ.value}))
    refused = await _as(gateway_schema, services, reader, EVENTS, {})
    assert refused.data == {"auditEvents": None}
    (error,) = refused.errors
    assert error.extensions["code"] == "FORBIDDEN" and error.extensions["scope"] == "audit:read"
    auditor = Principal(PrincipalKind.KEY, "k-a", "auditor", frozenset({Scope.AUDIT_READ.value}))
    allowed = await _as(gateway_schema, services, auditor, EVENTS, {})
    assert allowed.errors is None and allowed.data["auditEvents"]["edges"] == []


async def test_bad_page_arguments_are_user_errors(run) -> None:
    for variables, code in (
        ({"first": 0}, "BAD_USER_INPUT"),
        ({"first": 501}, "BAD_USER_INPUT"),
        ({"after": "not-a-cursor"}, "INVALID_CURSOR"),
        ({"filter": {"email": "x" * 300}}, "BAD_USER_INPUT"),
    ):
        result = await run(EVENTS, variables)
        assert result.data == {"auditEvents": None}, variables
        assert result.errors[0].extensions["code"] == code, variables
