"""The emulator's method table against GetResponse's 1.5 documentation (``tests/gr_contract.py``).

Every method it serves is documented; it accepts each documented condition (or names it as one it
does not model) and refuses any other; and what it answers has the documented fields and types.
"""

from __future__ import annotations

from typing import Any

import pytest
from emulators.getresponse.methods import METHODS as SERVED

from ...gr_contract import METHODS as DOCUMENTED
from ...gr_contract import result_violations
from .conftest import GetResponse

# Conditions the emulator takes beyond the 1.50.0 README, and why.  The gateway never sends them (its
# calls are checked against the documentation alone).
EXTENSIONS = {
    # apidocs.getresponse.com's 1.5.0 page lists an optional "message" with no description; the
    # emulator uses it to attribute a removal to a message.
    ("delete_contact", "message"),
}


PROBES = {key for method in DOCUMENTED.values() for key in method["conditions"] or {}} | {
    "Email",
    "campaign_id",
    "not_documented",
}


def _example(spec: dict[str, Any]) -> Any:
    """A well-formed value for a documented condition."""
    kind = spec["type"]
    examples: dict[str, Any] = {
        "text": {"CONTAINS": "%"},
        "time": {"FROM": "2000-01-01"},
        "numeric": {"GREATER_OR_EQUALS": 0},
        "ids": [],
        "conditions": {},
        "string": "x",
        "integer": spec.get("minimum", 0),
        "object": {},
    }
    if kind == "enum":
        return spec["values"][0]
    if kind == "list":
        return [_example(spec["items"])] * spec.get("min_items", 0)
    return examples[kind]


def test_every_method_served_is_documented() -> None:
    assert sorted(set(SERVED) - set(DOCUMENTED)) == []


@pytest.mark.parametrize("method", sorted(SERVED))
async def test_each_documented_condition_is_understood_and_no_other(gr: GetResponse, method: str) -> None:
    documented = DOCUMENTED[method]["conditions"] or {}
    for key, spec in documented.items():
        reply = await gr.call(method, {key: _example(spec)})
        detail = str(reply.get("error", {}).get("data", ""))
        assert "unknown condition" not in detail, (method, key, reply)
    # Every other method's condition names, plus a few near misses, must be refused as unknown.
    extensions = {key for served, key in EXTENSIONS if served == method}
    for key in sorted(PROBES - set(documented) - extensions):
        reply = await gr.call(method, {key: "x"})
        detail = str(reply.get("error", {}).get("data", ""))
        assert f"unknown condition {key!r}" in detail, (method, key, reply)


async def test_each_answer_has_the_documented_fields_and_types(gr: GetResponse) -> None:
    truth = await gr.ground_truth()
    campaign_id = next(iter(truth["campaigns"]))
    contact_id = next(iter(truth["contacts"]))
    message_id = next(iter(truth["messages"]))
    # move_contact needs a campaign the contact's address is not already in (any seed, any account).
    address = truth["contacts"][contact_id]["email"].casefold()
    taken = {c["campaign"] for c in truth["contacts"].values() if c["email"].casefold() == address}
    target = next(c for c in truth["campaigns"] if c not in taken)
    calls: list[tuple[str, dict[str, Any] | None]] = [
        ("ping", None),
        ("get_campaigns", None),
        ("get_campaign", {"campaign": campaign_id}),
        ("get_messages", None),
        *[("get_messages", {"type": kind}) for kind in ("newsletter", "autoresponder", "ab_test", "draft")],
        ("get_message", {"message": message_id}),
        ("get_contacts", None),
        ("get_contact", {"contact": contact_id}),
        ("get_contacts_deleted", None),
        ("set_account_callbacks", {"uri": "http://127.0.0.1:9/callback", "actions": ["subscribe"]}),
        ("get_account_callbacks", None),
        ("delete_account_callbacks", None),
        ("add_contact", {"campaign": campaign_id, "email": "someone.new@example.com"}),
        (
            "move_contact",
            {"contact": contact_id, "campaign": target},
        ),
        ("delete_contact", {"contact": contact_id}),
    ]
    assert {method for method, _ in calls} == set(SERVED)
    for method, conditions in calls:
        result = await gr.result(method, conditions)
        assert result, (method, conditions)
        assert result_violations(method, result) == [], method
