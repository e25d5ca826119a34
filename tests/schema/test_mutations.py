"""Mutations over fake ports: input validation, consent gate, per-contact results."""

from __future__ import annotations

from dataclasses import replace

from gateway.core.model import Provider
from gateway.core.principals import Caller, Principal
from gateway.schema.context import GatewayContext
from gateway.schema.ids import encode_global_id

from .fakes import fake_id

CC_2 = fake_id(Provider.CONSTANT_CONTACT, 2)

RESTORE = """
mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) {
    results { index provider contactId status code message }
    userErrors { code message field index }
  }
}
"""
DELETE = """
mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) {
    results { index provider contactId status code }
    userErrors { code message field index }
  }
}
"""


def gr_id(n: int) -> str:
    return encode_global_id("GetResponseDeletedContact", f"ge{n:04d}")


async def test_consent_gate_and_override(run, ports) -> None:
    refs = [{"id": gr_id(1)}, {"id": gr_id(99)}]
    blocked = (await run(RESTORE, {"input": {"contacts": refs}})).data["restoreContacts"]
    assert [(r["index"], r["status"], r["code"]) for r in blocked["results"]] == [
        (0, "DONE", None),
        (1, "SKIPPED", "CONSENT_REQUIRED"),
    ]
    assert [e["code"] for e in blocked["userErrors"]] == ["CONSENT_REQUIRED"]
    assert ports[Provider.GETRESPONSE].restored == ["ge0001"]

    short = await run(RESTORE, {"input": {"contacts": refs, "consentOverride": {"reason": "ok"}}})
    assert short.data["restoreContacts"]["userErrors"][0]["field"] == ["input", "consentOverride", "reason"]

    allowed = await run(
        RESTORE,
        {"input": {"contacts": refs, "consentOverride": {"reason": "signed consent form 2026-11-02"}}},
    )
    assert [r["status"] for r in allowed.data["restoreContacts"]["results"]] == ["DONE", "DONE"]


async def test_dry_run_changes_nothing(run, ports) -> None:
    result = await run(RESTORE, {"input": {"contacts": [{"id": gr_id(1)}], "dryRun": True}})
    assert result.data["restoreContacts"]["results"][0]["code"] == "DRY_RUN"
    assert result.data["restoreContacts"]["userErrors"] == []
    assert ports[Provider.GETRESPONSE].restored == []


async def test_bad_references_become_user_errors_while_the_rest_proceeds(run) -> None:
    refs = [
        {"id": "garbage"},
        {"provider": "GETRESPONSE"},
        {"contactId": "x"},
        {"provider": "GETRESPONSE", "contactId": "ge0003", "email": "a@b.c"},
        {"provider": "GETRESPONSE", "contactId": "ge0003"},
        {"provider": "GETRESPONSE", "contactId": "doesnotexist"},
        {"provider": "GETRESPONSE", "contactId": "does-not-exist"},
        {"provider": "CONSTANT_CONTACT", "contactId": "ge0003"},
        {"provider": "GETRESPONSE", "email": "not an address"},
    ]
    payload = (await run(RESTORE, {"input": {"contacts": refs}})).data["restoreContacts"]
    codes = {e["index"]: e["code"] for e in payload["userErrors"]}
    assert codes == {
        0: "INVALID_ID",
        1: "BAD_USER_INPUT",
        2: "BAD_USER_INPUT",
        3: "BAD_USER_INPUT",
        5: "NOT_FOUND",
        6: "BAD_USER_INPUT",
        7: "BAD_USER_INPUT",
        8: "BAD_USER_INPUT",
    }
    assert [(r["index"], r["status"]) for r in payload["results"]] == [(4, "DONE"), (5, "SKIPPED")]


async def test_delete_by_email_and_id(run, ports) -> None:
    someone = fake_id(Provider.CONSTANT_CONTACT, 500)
    ports[Provider.CONSTANT_CONTACT].active["someone@example.com"] = [(someone, None)]
    refs = [{"provider": "CONSTANT_CONTACT", "email": "Someone@Example.com"}, {"id": gr_id(5)}]
    payload = (await run(DELETE, {"input": {"contacts": refs}})).data["deleteContacts"]
    assert [(r["index"], r["provider"], r["contactId"], r["status"]) for r in payload["results"]] == [
        (0, "CONSTANT_CONTACT", someone, "DONE"),
        (1, "GETRESPONSE", "ge0005", "DONE"),
    ]
    assert ports[Provider.CONSTANT_CONTACT].calls == ["resolve_active", "delete"]
    assert ports[Provider.CONSTANT_CONTACT].deleted == [someone]


async def test_a_complaint_at_getresponse_blocks_the_same_address_at_constant_contact(run, ports) -> None:
    from dataclasses import replace

    complaint = ports[Provider.GETRESPONSE].contacts["ge0099"]
    cc = ports[Provider.CONSTANT_CONTACT].contacts[CC_2]
    ports[Provider.CONSTANT_CONTACT].contacts[CC_2] = replace(cc, email=complaint.email.upper())
    cc_id = encode_global_id("ConstantContactDeletedContact", CC_2)
    payload = (
        await run(RESTORE, {"input": {"contacts": [{"id": cc_id}], "constantContactListIds": ["l1"]}})
    ).data["restoreContacts"]
    (result,) = payload["results"]
    assert (result["status"], result["code"]) == ("SKIPPED", "CONSENT_REQUIRED")
    assert "GETRESPONSE" in result["message"] and "complaint" in result["message"]
    assert ports[Provider.CONSTANT_CONTACT].restored == []

    lookup = await run(
        "query($e: [String!]!) { deletedContactsByEmail(emails: $e) { suppressedBy "
        "deletedContacts { provider } } }",
        {"e": [complaint.email]},
    )
    (entry,) = lookup.data["deletedContactsByEmail"]
    assert "complaint" in entry["suppressedBy"]
    assert sorted(c["provider"] for c in entry["deletedContacts"]) == ["CONSTANT_CONTACT", "GETRESPONSE"]


async def test_restore_fails_closed_when_the_other_provider_cannot_be_checked(run, ports) -> None:
    from gateway.providers.errors import ProviderUnavailable

    ports[Provider.GETRESPONSE].failure = ProviderUnavailable("down", provider=Provider.GETRESPONSE)
    cc_id = encode_global_id("ConstantContactDeletedContact", CC_2)
    payload = (
        await run(RESTORE, {"input": {"contacts": [{"id": cc_id}], "constantContactListIds": ["l1"]}})
    ).data["restoreContacts"]
    (result,) = payload["results"]
    assert (result["status"], result["code"]) == ("SKIPPED", "CONSENT_UNVERIFIED")
    assert "GETRESPONSE" in result["message"]
    assert ports[Provider.CONSTANT_CONTACT].restored == []


async def test_a_listing_that_answers_ids_also_answers_the_suppression_check(run, ports) -> None:
    ports[Provider.GETRESPONSE].cost = 1
    ports[Provider.CONSTANT_CONTACT].cost = 1
    for port in ports.values():
        port.calls.clear()
    await run(RESTORE, {"input": {"contacts": [{"id": gr_id(1)}, {"id": gr_id(3)}]}})
    # GetResponse: one listing (ids and the addresses' records), then the restore.  Constant Contact
    # records no reasons, so it cannot hold a complaint and is not asked at all.
    assert ports[Provider.GETRESPONSE].calls == ["list_deleted", "restore"]
    assert ports[Provider.CONSTANT_CONTACT].calls == []


async def test_an_idempotency_key_replays_the_first_result_without_acting_again(run, ports) -> None:
    query = RESTORE.replace("results {", "results { email contact { id email } bulkOperation { id }")
    refs = [{"id": gr_id(1)}, {"id": gr_id(99)}, {"id": "garbage"}]
    first = await run(query, {"input": {"contacts": refs, "idempotencyKey": "ticket-4411"}})
    again = await run(query, {"input": {"contacts": refs, "idempotencyKey": "ticket-4411"}})
    assert first.errors is None and again.errors is None
    assert again.data == first.data
    assert [r["status"] for r in first.data["restoreContacts"]["results"]] == ["DONE", "SKIPPED"]
    assert ports[Provider.GETRESPONSE].restored == ["ge0001"]  # the retry changed nothing

    other = await run(query, {"input": {"contacts": refs[:1], "idempotencyKey": "ticket-4411"}})
    assert other.data is None or other.data["restoreContacts"] is None
    assert other.errors[0].extensions["code"] == "IDEMPOTENCY_KEY_REUSED"

    # Keys are per mutation: the same key on deleteContacts is a new request.
    deleted = await run(DELETE, {"input": {"contacts": refs[:1], "idempotencyKey": "ticket-4411"}})
    assert deleted.data["deleteContacts"]["results"][0]["status"] == "DONE"

    too_long = await run(DELETE, {"input": {"contacts": refs[:1], "idempotencyKey": "k" * 201}})
    assert too_long.errors[0].extensions["code"] == "BAD_USER_INPUT"


async def test_a_request_that_fails_unexpectedly_releases_its_key(run, ports) -> None:
    ports[Provider.GETRESPONSE].crash = RuntimeError("boom")
    refs = [{"id": gr_id(1)}]
    failed = await run(RESTORE, {"input": {"contacts": refs, "idempotencyKey": "retry-me"}})
    assert failed.errors[0].extensions["code"] == "INTERNAL_SERVER_ERROR"
    ports[Provider.GETRESPONSE].crash = None
    retried = await run(RESTORE, {"input": {"contacts": refs, "idempotencyKey": "retry-me"}})
    assert retried.data["restoreContacts"]["results"][0]["status"] == "DONE"


async def test_the_shortest_override_reason_is_a_setting(services, gateway_schema, ports) -> None:
    services.limits = replace(services.limits, min_reason_length=40)
    refs = [{"id": gr_id(99)}]
    reason = "signed consent form 2026-11-02"  # 30 characters: enough by default, not here
    context = GatewayContext.create(services, Caller(Principal.local(), "req-test"))
    result = await gateway_schema.execute(
        RESTORE,
        variable_values={"input": {"contacts": refs, "consentOverride": {"reason": reason}}},
        context_value=context,
    )
    [error] = result.data["restoreContacts"]["userErrors"]
    assert error["field"] == ["input", "consentOverride", "reason"] and "40" in error["message"]
    assert ports[Provider.GETRESPONSE].restored == []
