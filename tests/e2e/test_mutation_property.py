"""Property: whatever a mutation's input, the contacts changed at the providers are among those it names.

Random inputs mix valid references (by address, by provider id, by global id, at both providers, in
any letter case), invalid ones (empty, blank, dots, path characters, overlong, wrong form for the
provider, malformed shapes), unknown ones and duplicates, for deleteContacts and restoreContacts, dry
run or not.  After each mutation both emulators' clocks move on (so bulk activities and queued adds
take effect) and their ground truth is compared with the one before: every contact that changed must
be named by the input, by id, or by an address it held.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gateway.errors import InvalidId
from gateway.schema.ids import decode_global_id, encode_global_id

from .conftest import Stack, StackFactory, emulator_apps

DELETE = """
mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) { results { index status code } userErrors { code index } }
}
"""
RESTORE = """
mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) { results { index status code } userErrors { code index } }
}
"""
PROVIDERS = ("CONSTANT_CONTACT", "GETRESPONSE")
CONTACT_TYPES = {
    "CONSTANT_CONTACT": "ConstantContactDeletedContact",
    "GETRESPONSE": "GetResponseDeletedContact",
}
HOSTILE = [
    "", " ", ".", "..", "/", "a/b", "../x", "%", "%2E", "?", "#", "*", "\n", "\x00", "@", "a@", "@b.c",
    "a@b", "x" * 300, f"{'y' * 250}@example.com", "00000000-0000-4000-8000-000000000000", "zzzzz",
    "' OR 1=1 --", "%@%", "_@_._",
]  # fmt: skip


@pytest.fixture
async def property_stack(make_stack: StackFactory) -> AsyncIterator[Stack]:
    async with make_stack() as running:
        yield running


@dataclass
class Named:
    """What an input names: ids per provider, and addresses per provider (case-folded)."""

    ids: dict[str, set[str]] = field(default_factory=lambda: {p: set() for p in PROVIDERS})
    emails: dict[str, set[str]] = field(default_factory=lambda: {p: set() for p in PROVIDERS})

    def add(self, ref: dict[str, Any]) -> None:
        provider, contact_id, email = ref.get("provider"), ref.get("contactId"), ref.get("email")
        if isinstance(ref.get("id"), str):
            try:
                type_name, contact_id = decode_global_id(ref["id"])
            except InvalidId:
                return
            provider = next((p for p, t in CONTACT_TYPES.items() if t == type_name), None)
        if provider not in PROVIDERS:
            return
        if isinstance(contact_id, str):
            self.ids[provider].add(contact_id.lower())
        if isinstance(email, str):
            self.emails[provider].add(email.casefold())


def _references(truth: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    cc = list(truth["cc"]["contacts"].values())
    cc_ids = [c["contact_id"] for c in cc]
    cc_emails = [c["email_address"]["address"] for c in cc]
    gr_ids = [*truth["gr"]["contacts"], *(d["contact_id"] for d in truth["gr"]["deleted"])]
    gr_emails = [*(c["email"] for c in truth["gr"]["contacts"].values())]
    gr_emails += [d["email"] for d in truth["gr"]["deleted"]]
    cased = st.sampled_from([str, str.upper, str.lower])

    def by(provider: str, key: str, values: list[str]) -> st.SearchStrategy[dict[str, Any]]:
        return st.builds(lambda v, case: {"provider": provider, key: case(v)}, st.sampled_from(values), cased)

    def global_id(provider: str, values: list[str]) -> st.SearchStrategy[dict[str, Any]]:
        return st.sampled_from(values).map(lambda v: {"id": encode_global_id(CONTACT_TYPES[provider], v)})

    hostile = st.builds(
        lambda provider, key, value: {"provider": provider, key: value},
        st.sampled_from(PROVIDERS),
        st.sampled_from(["contactId", "email"]),
        st.sampled_from(["", " ", ".", "..", "a/b"]),
    )
    odd = st.builds(
        lambda provider, key, value: {"provider": provider, key: value},
        st.sampled_from(PROVIDERS),
        st.sampled_from(["contactId", "email"]),
        st.sampled_from(HOSTILE) | st.text(max_size=12),
    )
    hostile_global = st.builds(
        lambda provider, value: {"id": encode_global_id(CONTACT_TYPES[provider], value)},
        st.sampled_from(PROVIDERS),
        st.sampled_from(HOSTILE[:12]),
    )
    malformed = st.sampled_from(
        [
            {},
            {"contactId": ""},
            {"email": ""},
            {"provider": "CONSTANT_CONTACT"},
            {"id": "not-an-id"},
            {"provider": "GETRESPONSE", "contactId": gr_ids[0], "email": gr_emails[0]},
        ]
    )
    valid = st.one_of(
        by("CONSTANT_CONTACT", "email", cc_emails),
        by("CONSTANT_CONTACT", "contactId", cc_ids),
        by("GETRESPONSE", "email", gr_emails),
        by("GETRESPONSE", "contactId", gr_ids),
        global_id("CONSTANT_CONTACT", cc_ids),
        global_id("GETRESPONSE", gr_ids),
    )
    # Two references in three are hostile, half of those an empty, blank or dot id or address at a
    # provider: the inputs that once widened a write to a whole account.
    return valid | hostile | st.one_of(odd, hostile_global, malformed)


def _seeded_truth() -> dict[str, Any]:
    """Both emulators' state as the stack's seed creates it: what references are drawn from."""

    async def read() -> dict[str, Any]:
        cc_app, gr_app = emulator_apps()
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(cc_app), base_url="http://cc") as cc,
            httpx.AsyncClient(transport=httpx.ASGITransport(gr_app), base_url="http://gr") as gr,
        ):
            return {
                "cc": (await cc.get("/_emulator/ground-truth")).json(),
                "gr": (await gr.get("/_emulator/ground-truth")).json(),
            }

    return asyncio.run(read())


REFERENCES = _references(_seeded_truth())
# Some inputs, a duplicated reference among them (the same contact named twice).
INPUTS = st.lists(REFERENCES, min_size=1, max_size=6).flatmap(
    lambda refs: st.just(refs) | st.sampled_from(refs).map(lambda again: [*refs, again])
)


def _changed_cc(before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """Changed Constant Contact contacts: id -> address (as it was before, or is, if new)."""
    old, new = before["contacts"], after["contacts"]
    changed = {i: c["email_address"]["address"] for i, c in old.items() if new.get(i) != c}
    return changed | {i: c["email_address"]["address"] for i, c in new.items() if i not in old}


def _key(record: dict[str, Any]) -> str:
    return repr(sorted(record.items()))


def _changed_gr(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Changed GetResponse records: (id, address), the id None for a queued add."""
    old, new = before["contacts"], after["contacts"]
    changed: list[tuple[str | None, str]] = [(i, c["email"]) for i, c in old.items() if new.get(i) != c]
    changed += [(i, c["email"]) for i, c in new.items() if i not in old]
    old_deleted = {_key(d) for d in before["deleted"]}
    new_deleted = {_key(d) for d in after["deleted"]}
    changed += [(d["contact_id"], d["email"]) for d in after["deleted"] if _key(d) not in old_deleted]
    changed += [(d["contact_id"], d["email"]) for d in before["deleted"] if _key(d) not in new_deleted]
    old_queued = {_key(q) for q in before["queued"]}
    changed += [(None, q["email"]) for q in after["queued"] if _key(q) not in old_queued]
    return changed


def _gr_addresses_of(ids: set[str], truth: dict[str, Any]) -> set[str]:
    held = {i.lower(): c["email"] for i, c in truth["contacts"].items()}
    held |= {d["contact_id"].lower(): d["email"] for d in truth["deleted"]}
    return {held[i].casefold() for i in ids if i in held}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(  # issue 19: this deleted every active Constant Contact contact
    references=[{"email": "", "contactId": None, "provider": "CONSTANT_CONTACT"}, {"contactId": ""}],
    restore=False,
    dry_run=False,
    override=False,
)
@example(  # issue 19: this put every deleted Constant Contact contact back on a list
    references=[{"provider": "CONSTANT_CONTACT", "email": ""}], restore=True, dry_run=False, override=True
)
@example(
    references=[{"provider": p, "contactId": odd} for p in PROVIDERS for odd in (".", "..", "a/b", " ")],
    restore=False,
    dry_run=False,
    override=False,
)
@given(references=INPUTS, restore=st.booleans(), dry_run=st.booleans(), override=st.booleans())
async def test_a_mutation_changes_only_contacts_its_input_names(
    property_stack: Stack, references: list[dict[str, Any]], restore: bool, dry_run: bool, override: bool
) -> None:
    stack = property_stack
    before = await stack.ground_truth()
    input_: dict[str, Any] = {"contacts": references, "dryRun": dry_run, "waitForCompletion": False}
    if restore:
        lists = (await stack.graphql("{ constantContactLists { id } }"))["data"]["constantContactLists"]
        input_["constantContactListIds"] = [lists[0]["id"]]
        if override:
            input_["consentOverride"] = {"reason": "property test: consent on file"}

    body = await stack.graphql(RESTORE if restore else DELETE, {"input": input_})
    assert "errors" not in body or all(
        e["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for e in body["errors"]
    ), body
    for emulator in (stack.cc, stack.gr):  # let bulk activities finish and queued adds confirm
        await emulator.post("/_emulator/clock", json={"advance_seconds": 600})
    after = await stack.ground_truth()

    named = Named()
    for ref in references:
        named.add(ref)
    cc_emails = named.emails["CONSTANT_CONTACT"]
    for contact_id, address in _changed_cc(before["cc"], after["cc"]).items():
        assert contact_id.lower() in named.ids["CONSTANT_CONTACT"] or address.casefold() in cc_emails, (
            contact_id,
            references,
        )
    gr_emails = named.emails["GETRESPONSE"] | _gr_addresses_of(named.ids["GETRESPONSE"], before["gr"])
    for record_id, address in _changed_gr(before["gr"], after["gr"]):
        by_id = record_id is not None and record_id.lower() in named.ids["GETRESPONSE"]
        assert by_id or address.casefold() in gr_emails, (record_id, address, references)
    if dry_run:
        assert after["cc"]["contacts"] == before["cc"]["contacts"]
        assert (after["gr"]["contacts"], after["gr"]["deleted"]) == (
            before["gr"]["contacts"],
            before["gr"]["deleted"],
        )
