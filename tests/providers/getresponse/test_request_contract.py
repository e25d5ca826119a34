"""GetResponse calls checked against the 1.5 documentation (``tests/gr_contract.py``).

The conftest checks every request of every client test; here the checker itself is shown to refuse
what the documentation does not allow, and each call the gateway makes (``get_contacts``,
``delete_contact``, ``add_contact``, ``get_campaigns``, ``get_messages``, ``get_contacts_deleted``,
and ``get_message`` for the catalog) is driven with every option the client and the adapter use.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import orjson
import pytest

from gateway.core.filters import DayRange as CoreDayRange
from gateway.core.filters import DeletedContactFilter, TextCondition, TextOperator
from gateway.providers.getresponse import DayRange, DeletedContactsQuery
from gateway.providers.getresponse import TextCondition as GrTextCondition
from gateway.providers.getresponse.adapter import GetResponseAdapter

from ...gr_contract import CheckingTransport, call_violations, request_violations
from .conftest import API_KEY, Emulator


def _call(method: str, conditions: Any = None, **envelope: Any) -> dict[str, Any]:
    params: list[Any] = [API_KEY] if conditions is None else [API_KEY, conditions]
    return {"jsonrpc": "2.0", "method": method, "params": params, "id": 1, **envelope}


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        (_call("get_everything"), "method 'get_everything' is not documented"),
        (_call("ping", {}), "takes no conditions"),
        (_call("get_contacts", {"emial": {"EQUALS": "a@b.c"}}), "'emial' is not a documented condition"),
        (_call("get_contacts", {"email": {"equals": "a@b.c"}}), "'equals' is not a text operator"),
        (_call("get_contacts", {"email": {"FROM": "2024-01-01"}}), "'FROM' is not a text operator"),
        (_call("get_contacts", {"email": "a@b.c"}), "must be an object {OPERATOR: value}"),
        (
            _call("get_contacts", {"email": {"EQUALS": "a@b.c", "NOT_EQUALS": "d@e.f"}}),
            "takes exactly one text operator",
        ),
        (_call("get_contacts_deleted", {"deleted_on": {"FROM": "2024-1-1"}}), "is not a YYYY-MM-DD day"),
        (_call("get_contacts_deleted", {"reason": "bored"}), "'bored' is not one of"),
        (_call("get_contacts_deleted", {"campaigns": "c1"}), "must be an array of id strings"),
        (
            _call("get_contacts_deleted", {"get_campaigns": {"CONTAINS": "x%"}}),
            "'CONTAINS' is not a documented",
        ),
        (_call("get_contacts", {"pager": {"limit": 0}}), "get_contacts.pager.limit: 0 is below 1"),
        (_call("get_contacts", {"pager": {"order_by": "changed_on"}}), "'changed_on' is not one of"),
        (_call("get_messages", {"type": "sms"}), "'sms' is not one of"),
        (_call("delete_contact", {}), "mandatory 'contact' is missing"),
        (_call("delete_contact", {"contact": "c1", "message": "m1"}), "'message' is not a documented"),
        (_call("add_contact", {"campaign": "c1"}), "mandatory 'email' is missing"),
        (_call("add_contact", {"campaign": "c1", "email": "a@b.c", "action": "standard"}), "deprecated"),
        (_call("add_contact", {"campaign": "c1", "email": "a@b.c", "cycle_day": -1}), "-1 is below 0"),
        (
            _call("add_contact", {"campaign": "c1", "email": "a@b.c", "customs": [{"name": "Bad Name"}]}),
            "does not match",
        ),
        (_call("set_account_callbacks", {"uri": "http://x", "actions": []}), "needs at least 1 item"),
        (_call("get_campaigns", {"name": {"EQUALS": "x"}}, jsonrpc="1.1"), "jsonrpc must be one of"),
        (_call("get_campaigns", None, extra=True), "envelope member 'extra'"),
        (
            {"jsonrpc": "2.0", "method": "get_campaigns", "params": {"key": API_KEY}, "id": 1},
            "params must be",
        ),
    ],
)
def test_the_checker_refuses_what_the_documentation_does_not_allow(
    call: dict[str, Any], complaint: str
) -> None:
    violations = call_violations(call)
    assert any(complaint in violation for violation in violations), violations


def test_the_documentation_examples_pass_with_their_placeholders_filled() -> None:
    examples = [
        _call("ping"),
        _call("get_campaigns", {"name": {"EQUALS": "your_campaign_1"}}),
        _call("get_messages", {"campaigns": ["4b1b5", "b35f2b"]}),
        _call(
            "get_contacts",
            {"cycle_day": {"EQUALS": None}, "created_on": {"FROM": "2014-01-01", "TO": "2014-01-31"}},
        ),
        _call(
            "get_contacts_deleted",
            {"get_campaigns": {"name": {"CONTAINS": "my_campaign_%"}}, "reason": "bounce::user_unknown"},
        ),
        _call(
            "add_contact",
            {"campaign": "c1", "email": "a@b.c", "customs": [{"name": "likes_to_drink", "content": "tea"}]},
        ),
        _call("delete_contact", {"contact": "c1"}),
        {
            "jsonrpc": "2.0",
            "method": "delete_contact",
            "params": [API_KEY, {"contact": "c1"}],
        },  # notification
    ]
    for example in examples:
        assert call_violations(example) == [], example


def test_requests_are_checked_as_http_too() -> None:
    url = "https://api2.getresponse.test/"
    batch = orjson.dumps([_call("ping"), _call("get_everything")])
    assert request_violations(
        httpx.Request("POST", url, content=batch, headers={"content-type": "application/json"})
    ) == ["[1] method 'get_everything' is not documented"]
    assert request_violations(httpx.Request("GET", url)) == [f"GET {url}: JSON-RPC is POST only"]
    empty = httpx.Request("POST", url, content=b"[]", headers={"content-type": "application/json"})
    assert request_violations(empty) == ["an empty batch"]
    assert (
        "is not application/json"
        in request_violations(httpx.Request("POST", url, content=orjson.dumps(_call("ping"))))[0]
    )


async def test_every_call_the_gateway_makes_is_documented(emulator: Emulator) -> None:
    transport = CheckingTransport(emulator.transport or httpx.AsyncHTTPTransport())
    client = emulator.client(transport=transport, check_contract=False)  # checked here, by name
    truth = await emulator.ground_truth()
    campaign_id, campaign = next(iter(truth["campaigns"].items()))
    contact_id = next(iter(truth["contacts"]))
    message_id = next(iter(truth["messages"]))

    await client.get_campaigns({"name": {"CONTAINS": campaign["name"][:3] + "%"}})
    await client.get_messages(
        {"campaigns": [campaign_id], "type": "newsletter", "send_on": {"FROM": "2000-01-01"}}
    )
    await client.get_contacts(
        {"get_campaigns": {"name": {"EQUALS": campaign["name"]}}, "email": {"CONTAINS": "%@%"}}
    )
    await client.get_contacts_deleted(
        DeletedContactsQuery(
            campaign_ids=(campaign_id,),
            campaign_name=GrTextCondition("CONTAINS", "%"),
            message_ids=(message_id,),
            message_name=GrTextCondition("NOT_EQUALS", "nothing"),
            email=(GrTextCondition("CONTAINS", "%example%"),),
            created_on=DayRange(from_day=date(2010, 1, 1)),
            deleted_on=DayRange(from_day=date(2015, 1, 1), to_day=date(2030, 12, 31)),
            reason="bounce::user_unknown",
        )
    )
    await client.get_catalog_by_ids([campaign_id], [message_id])
    await client.add_contact(
        campaign_id=campaign_id, email="new.person@example.com", name="New Person", cycle_day=0, ip="1.2.3.4",
        customs={"likes_to_drink": "tea"},
    )  # fmt: skip
    await client.delete_contacts([contact_id])

    sent = [call["method"] for call in _calls(transport.sent)]
    assert set(sent) >= {"get_campaigns", "get_messages", "get_contacts", "get_contacts_deleted",
                         "get_message", "add_contact", "delete_contact"}  # fmt: skip
    assert transport.violations == []


async def test_the_adapter_sends_only_documented_conditions(emulator: Emulator) -> None:
    """Several email conditions of a filter: one goes to GetResponse, the rest are applied locally."""
    transport = CheckingTransport(emulator.transport or httpx.AsyncHTTPTransport())
    adapter = GetResponseAdapter(emulator.client(transport=transport, check_contract=False))
    query = DeletedContactFilter(
        email=(
            TextCondition(TextOperator.CONTAINS, "%example%"),
            TextCondition(TextOperator.NOT_CONTAINS, "%zz%"),
        ),
        deleted=CoreDayRange(start=date(2015, 1, 1), end=date(2030, 12, 31)),
        campaign_name=TextCondition(TextOperator.CONTAINS, "%"),
    )

    listed = await adapter.list_deleted(query)
    await adapter.find_deleted_by_email([item.contact.email for item in listed[:3]])
    await adapter.get_deleted([item.contact.contact_id for item in listed[:3]])

    assert listed
    assert transport.violations == []


def _calls(bodies: list[bytes]) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    for body in bodies:
        document = orjson.loads(body)
        calls += document if isinstance(document, list) else [document]
    return calls
