"""A mutation acts only on what it names: bad references are refused unsent, a provider's over-wide
answer is never acted on, and a dry run writes nothing.

The reproductions run over real HTTP (each part under its own uvicorn server); the emulators' request
logs prove that nothing was written, and their ground truth that every contact is where it was.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from emulators.constant_contact.listing import ContactListing
from emulators.getresponse import methods as gr_methods
from starlette.datastructures import QueryParams

from gateway.config import Settings
from gateway.schema.ids import encode_global_id

from .conftest import Stack, StackFactory

DELETE = """
mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) {
    results { index provider contactId status code message }
    userErrors { code message field index }
  }
}
"""
RESTORE = """
mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) {
    results { index provider contactId status code message }
    userErrors { code message field index }
  }
}
"""
# Operations that change contacts, as the emulators log them.
CC_WRITES = ("deleteContact", "putContact", "postContactDelete", "postListAddContact", "createContact")
GR_WRITES = ("delete_contact", "add_contact", "move_contact")


async def _writes(stack: Stack) -> dict[str, int]:
    counts = await stack.counts()
    cc = {name: counts["cc"]["operations"].get(name, 0) for name in CC_WRITES}
    gr = {name: counts["gr"]["operations"].get(name, 0) for name in GR_WRITES}
    return {name: count for name, count in {**cc, **gr}.items() if count}


def _codes(payload: dict[str, Any]) -> dict[int, str]:
    return {e["index"]: e["code"] for e in payload["userErrors"]}


def _active_cc(truth: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in truth["cc"]["contacts"].values() if not c.get("deleted_at")]


def _deleted_cc(truth: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in truth["cc"]["contacts"].values() if c.get("deleted_at")]


async def _cc_list_id(stack: Stack) -> str:
    body = await stack.graphql("{ constantContactLists { id } }")
    list_id: str = body["data"]["constantContactLists"][0]["id"]
    return list_id


# -- the reproductions of issue 19, over real HTTP ------------------------------------------------


async def test_an_empty_email_deletes_nothing_and_is_bad_user_input(live_stack: Stack) -> None:
    stack = live_stack
    before = await stack.ground_truth()
    assert len(_active_cc(before)) > 100
    await stack.reset_counts()

    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "contacts": [
                    {"email": "", "contactId": None, "provider": "CONSTANT_CONTACT"},
                    {"contactId": ""},
                ],
                "waitForCompletion": True,
            }
        },
    )

    payload = body["data"]["deleteContacts"]
    assert payload["results"] == []
    assert _codes(payload) == {0: "BAD_USER_INPUT", 1: "BAD_USER_INPUT"}
    counts = await stack.counts()
    assert counts["cc"]["operations"] == {} and counts["gr"]["operations"] == {}  # not even a read
    assert await stack.ground_truth() == before


async def test_an_empty_email_restores_nothing_even_with_a_list_and_an_override(live_stack: Stack) -> None:
    stack = live_stack
    list_id = await _cc_list_id(stack)
    before = await stack.ground_truth()
    assert _deleted_cc(before)
    await stack.reset_counts()

    body = await stack.graphql(
        RESTORE,
        {
            "input": {
                "contacts": [
                    {"provider": "CONSTANT_CONTACT", "email": ""},
                    {"provider": "GETRESPONSE", "email": "  "},
                ],
                "constantContactListIds": [list_id],
                "consentOverride": {"reason": "the fuzzer says everyone agreed"},
                "waitForCompletion": True,
            }
        },
    )

    payload = body["data"]["restoreContacts"]
    assert payload["results"] == []
    assert _codes(payload) == {0: "BAD_USER_INPUT", 1: "BAD_USER_INPUT"}
    counts = await stack.counts()
    assert counts["cc"]["operations"] == {} and counts["gr"]["operations"] == {}
    assert await stack.ground_truth() == before


ODD_IDS = ["", " ", ".", "..", "a/b", "../contacts", "%2E", "a?b", "a#b", "x\ny"]


@pytest.mark.parametrize("mutation", [DELETE, RESTORE])
async def test_odd_ids_are_refused_unsent_at_both_providers(live_stack: Stack, mutation: str) -> None:
    stack = live_stack
    before = await stack.ground_truth()
    refs: list[dict[str, Any]] = []
    for provider in ("CONSTANT_CONTACT", "GETRESPONSE"):
        refs += [{"provider": provider, "contactId": odd} for odd in ODD_IDS]
    refs += [{"id": encode_global_id("ConstantContactDeletedContact", odd)} for odd in (".", "..", "a/b")]
    refs += [{"id": encode_global_id("GetResponseDeletedContact", odd)} for odd in (".", "..", "a/b")]
    refs.append({"provider": "CONSTANT_CONTACT", "contactId": "4b1b5"})  # a GetResponse-shaped id
    refs.append({"provider": "GETRESPONSE", "contactId": "04fe9a97-a579-43c5-bb1a-58ed29bf0a6a"})
    await stack.reset_counts()

    body = await stack.graphql(mutation, {"input": {"contacts": refs}})

    payload = body["data"]["deleteContacts" if mutation is DELETE else "restoreContacts"]
    assert payload["results"] == []
    assert _codes(payload) == dict.fromkeys(range(len(refs)), "BAD_USER_INPUT")
    counts = await stack.counts()
    assert counts["cc"]["operations"] == {} and counts["gr"]["operations"] == {}
    assert await stack.ground_truth() == before


# -- bad items do not stop good ones ----------------------------------------------------------------


async def test_a_bad_reference_is_reported_on_its_item_and_the_others_proceed(stack: Stack) -> None:
    truth = await stack.ground_truth()
    target = _active_cc(truth)[0]
    address = target["email_address"]["address"]
    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "contacts": [
                    {"provider": "CONSTANT_CONTACT", "email": "not-an-address"},
                    {"provider": "CONSTANT_CONTACT", "email": address.upper()},
                    {"provider": "CONSTANT_CONTACT", "email": f"{'x' * 250}@example.com"},
                ]
            }
        },
    )
    payload = body["data"]["deleteContacts"]
    assert _codes(payload) == {0: "BAD_USER_INPUT", 2: "BAD_USER_INPUT"}
    assert [(r["index"], r["contactId"], r["status"]) for r in payload["results"]] == [
        (1, target["contact_id"], "DONE")
    ]
    after = await stack.ground_truth()
    changed = {i for i, c in after["cc"]["contacts"].items() if c != truth["cc"]["contacts"][i]}
    assert changed == {target["contact_id"]}


async def test_a_dry_run_delete_answers_what_would_be_deleted_and_writes_nothing(stack: Stack) -> None:
    truth = await stack.ground_truth()
    cc = _active_cc(truth)[:2]
    gr_id, gr = next(iter(truth["gr"]["contacts"].items()))
    held = sorted(i for i, c in truth["gr"]["contacts"].items() if c["email"].lower() == gr["email"].lower())
    await stack.reset_counts()

    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "dryRun": True,
                "contacts": [
                    {"provider": "CONSTANT_CONTACT", "email": cc[0]["email_address"]["address"]},
                    {"provider": "CONSTANT_CONTACT", "contactId": cc[1]["contact_id"]},
                    {"provider": "GETRESPONSE", "email": gr["email"]},
                ],
            }
        },
    )

    payload = body["data"]["deleteContacts"]
    assert payload["userErrors"] == []
    assert {r["status"] for r in payload["results"]} == {"SKIPPED"}
    assert {r["code"] for r in payload["results"]} == {"DRY_RUN"}
    assert [(r["index"], r["contactId"]) for r in payload["results"] if r["index"] < 2] == [
        (0, cc[0]["contact_id"]),
        (1, cc[1]["contact_id"]),
    ]
    assert sorted(r["contactId"] for r in payload["results"] if r["index"] == 2) == held
    assert gr_id in held
    assert await _writes(stack) == {}
    assert await stack.ground_truth() == truth


async def test_a_contact_named_twice_is_deleted_once(stack: Stack) -> None:
    truth = await stack.ground_truth()
    contact = _active_cc(truth)[3]
    await stack.reset_counts()
    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "contacts": [
                    {"provider": "CONSTANT_CONTACT", "contactId": contact["contact_id"]},
                    {"provider": "CONSTANT_CONTACT", "email": contact["email_address"]["address"]},
                ]
            }
        },
    )
    payload = body["data"]["deleteContacts"]
    assert [(r["index"], r["contactId"], r["status"]) for r in payload["results"]] == [
        (0, contact["contact_id"], "DONE"),
        (1, contact["contact_id"], "DONE"),
    ]
    assert await _writes(stack) == {"deleteContact": 1}


# -- a provider that answers more than was asked ----------------------------------------------------


async def test_a_listing_that_ignores_the_email_filter_changes_only_the_named_contact(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original defect's mechanism: every contact comes back for an address query."""
    original = ContactListing.page

    def ignoring_email(self: ContactListing, params: QueryParams) -> dict[str, Any]:
        return original(self, QueryParams([(k, v) for k, v in params.multi_items() if k != "email"]))

    monkeypatch.setattr(ContactListing, "page", ignoring_email)
    truth = await stack.ground_truth()
    target = _active_cc(truth)[5]
    await stack.reset_counts()

    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "waitForCompletion": True,
                "contacts": [{"provider": "CONSTANT_CONTACT", "email": target["email_address"]["address"]}],
            }
        },
    )

    payload = body["data"]["deleteContacts"]
    assert [(r["contactId"], r["status"]) for r in payload["results"]] == [(target["contact_id"], "DONE")]
    # The address query was answered with the whole account (two pages of 500), and only the one
    # contact holding the address was acted on.
    assert (await stack.counts())["cc"]["operations"]["getContacts"] == 2
    after = await stack.ground_truth()
    changed = {i for i, c in after["cc"]["contacts"].items() if c != truth["cc"]["contacts"][i]}
    assert changed == {target["contact_id"]}


def _with_a_twin(body: dict[str, Any], twin_id: str) -> dict[str, Any]:
    """The page with a second contact (another real contact's id) claiming the first one's address."""
    decoded: dict[str, Any] = orjson.loads(orjson.dumps(body))
    if decoded["contacts"]:
        decoded["contacts"].append({**decoded["contacts"][0], "contact_id": twin_id})
    return decoded


async def test_more_contacts_than_a_reference_can_name_refuses_the_whole_mutation(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    truth = await stack.ground_truth()
    active = _active_cc(truth)
    target, bystander, other = active[6], active[7], active[8]
    original = ContactListing.page

    def twinned(self: ContactListing, params: QueryParams) -> dict[str, Any]:
        body = original(self, params)
        return _with_a_twin(body, bystander["contact_id"]) if params.get("email") else body

    monkeypatch.setattr(ContactListing, "page", twinned)
    gr_id = next(iter(truth["gr"]["contacts"]))
    await stack.reset_counts()

    body = await stack.graphql(
        DELETE,
        {
            "input": {
                "contacts": [
                    {"provider": "CONSTANT_CONTACT", "contactId": other["contact_id"]},
                    {"provider": "CONSTANT_CONTACT", "email": target["email_address"]["address"]},
                    {"provider": "GETRESPONSE", "contactId": gr_id},
                ]
            }
        },
    )

    assert body["data"] is None or body["data"]["deleteContacts"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BLAST_RADIUS_EXCEEDED"
    assert "contact 1" in error["message"] and "nothing was changed" in error["message"]
    assert await _writes(stack) == {}
    assert await stack.ground_truth() == truth
    assert any("blast radius exceeded" in r.getMessage() for r in caplog.records)


async def test_two_active_records_of_one_address_in_one_campaign_refuse_the_delete(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = await stack.ground_truth()
    contacts = truth["gr"]["contacts"]
    target_id, target = next(iter(contacts.items()))
    bystander_id = next(
        i
        for i, c in contacts.items()
        if c["campaign"] == target["campaign"] and c["email"] != target["email"]
    )
    original = gr_methods.METHODS["get_contacts"]

    def twinned(context: Any, conditions: Any) -> Any:
        result = original(context, conditions)
        email = conditions.raw.get("email", {}).get("EQUALS")
        if email and result:
            first = next(iter(result.values()))
            result[bystander_id] = dict(first)  # the same address and campaign, another contact
        return result

    monkeypatch.setitem(gr_methods.METHODS, "get_contacts", twinned)
    await stack.reset_counts()

    body = await stack.graphql(
        DELETE, {"input": {"contacts": [{"provider": "GETRESPONSE", "email": target["email"]}]}}
    )

    assert body["errors"][0]["extensions"]["code"] == "BLAST_RADIUS_EXCEEDED"
    assert await _writes(stack) == {}
    after = await stack.ground_truth()
    assert target_id in after["gr"]["contacts"] and bystander_id in after["gr"]["contacts"]
    assert after["gr"]["deleted"] == truth["gr"]["deleted"]


async def test_a_restore_by_address_never_touches_a_record_of_another_address(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GetResponse answering every deletion for an address query: only the named address is restored."""
    original = gr_methods.METHODS["get_contacts_deleted"]

    def ignoring_email(context: Any, conditions: Any) -> Any:
        raw = {k: v for k, v in conditions.raw.items() if k != "email"}
        return original(context, type(conditions)(raw, allow_matches=conditions.allow_matches))

    monkeypatch.setitem(gr_methods.METHODS, "get_contacts_deleted", ignoring_email)
    truth = await stack.ground_truth()
    active = {(c["campaign"], c["email"].lower()) for c in truth["gr"]["contacts"].values()}
    named = next(
        d
        for d in truth["gr"]["deleted"]
        if d["reason"] in ("api", "user") and (d["campaign"], d["email"].lower()) not in active
    )

    body = await stack.graphql(
        RESTORE,
        {
            "input": {
                "contacts": [{"provider": "GETRESPONSE", "email": named["email"]}],
                "consentOverride": {"reason": "a test of the address check, ticket 19"},
            }
        },
    )

    payload = body["data"]["restoreContacts"]
    assert payload["results"] and {r["status"] for r in payload["results"]} == {"PENDING"}
    queued = (await stack.ground_truth())["gr"]["queued"]
    assert queued and {q["email"].lower() for q in queued} == {named["email"].lower()}


# -- limits come from Settings, per application ---------------------------------------------------


def test_mutation_limits_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_CONTACTS_PER_MUTATION", "2")
    monkeypatch.setenv("MAX_IDEMPOTENCY_KEY_LENGTH", "5")
    settings = Settings()
    assert (settings.max_contacts_per_mutation, settings.max_idempotency_key_length) == (2, 5)


async def test_mutation_limits_reach_the_mutations_through_the_settings(make_stack: StackFactory) -> None:
    async with make_stack(max_contacts_per_mutation=2, max_idempotency_key_length=5) as stack:
        refs = [{"provider": "GETRESPONSE", "contactId": f"zz{n}"} for n in range(3)]
        await stack.reset_counts()
        body = await stack.graphql(DELETE, {"input": {"contacts": refs, "dryRun": True}})
        payload = body["data"]["deleteContacts"]
        assert payload["results"] == []
        assert [(e["code"], e["field"], e["index"]) for e in payload["userErrors"]] == [
            ("BAD_USER_INPUT", ["input", "contacts"], None)
        ]
        assert "at most 2 contacts" in payload["userErrors"][0]["message"]
        keyed = await stack.graphql(
            DELETE, {"input": {"contacts": refs[:2], "dryRun": True, "idempotencyKey": "123456"}}
        )
        assert keyed["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert (await stack.counts())["gr"]["operations"] == {}
        fits = await stack.graphql(DELETE, {"input": {"contacts": refs[:2], "idempotencyKey": "12345"}})
        assert {r["code"] for r in fits["data"]["deleteContacts"]["results"]} == {"NOT_FOUND"}
