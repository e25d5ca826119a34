"""Property-based: ``get_contacts_deleted`` and ``get_contacts`` against a plain reference filter.

The reference works from ``GET /_emulator/ground-truth`` only and is written independently of the
emulator: LIKE is matched by a hand-written dynamic program, not a regex, and every rule (newest
removal per campaign and address, OR between ids and nested names, general reasons covering their
sub-reasons, inclusive days) is spelled out again here.  Hypothesis draws conditions from values that
occur in the data, mutated (case flips, ``_`` and ``%`` wildcards, cut-offs), plus unrelated text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from emulators.getresponse import GetResponseEmulatorSettings, create_app
from emulators.getresponse.conditions import TextCondition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.serving import BackgroundServer

from .conftest import API_KEY

ACCOUNT = GetResponseEmulatorSettings(seed=23, contacts=900, campaigns=5, messages_per_campaign=7)
APP = create_app(ACCOUNT)  # read-only in this module: every test only queries
GENERAL = (
    "unsubscribe",
    "user",
    "support",
    "automation",
    "complaint",
    "blacklisted",
    "api",
    "bounce",
    "other",
)
SPECIFIC = (
    "automation::remove-on-remove",
    "automation::remove-on-sale",
    "automation::remove-on-subscribe",
    "bounce::mailbox_full",
    "bounce::other_hard",
    "bounce::other_soft",
    "bounce::user_unknown",
    "bounce::user_recycled",
)
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    with BackgroundServer(APP) as running:
        yield running


@pytest.fixture(scope="module")
def truth(server: BackgroundServer) -> dict[str, Any]:
    ground_truth: dict[str, Any] = httpx.get(f"{server.url}/_emulator/ground-truth").json()
    return ground_truth


TRUTH: dict[str, Any] = APP.state.store.ground_truth()  # values to draw conditions from


# -- the reference filter --------------------------------------------------------------------------------


def like(pattern: str, text: str) -> bool:
    """SQL LIKE, case-insensitive: ``%`` any run, ``_`` one character, whole-string match."""
    pattern, text = pattern.casefold(), text.casefold()
    # matched[j]: the pattern so far matches text[:j]
    matched = [True] + [False] * len(text)
    for symbol in pattern:
        if symbol == "%":
            for j in range(1, len(text) + 1):
                matched[j] = matched[j] or matched[j - 1]
        else:
            matched = [False] + [
                matched[j - 1] and (symbol == "_" or symbol == text[j - 1]) for j in range(1, len(text) + 1)
            ]
    return matched[len(text)]


def text_holds(condition: dict[str, str], value: str | None) -> bool:
    if value is None:
        return False
    checks = {
        "EQUALS": lambda wanted: value.casefold() == wanted.casefold(),
        "NOT_EQUALS": lambda wanted: value.casefold() != wanted.casefold(),
        "CONTAINS": lambda wanted: like(wanted, value),
        "NOT_CONTAINS": lambda wanted: not like(wanted, value),
    }
    return all(checks[operator](wanted) for operator, wanted in condition.items())


def day_holds(condition: dict[str, str], timestamp: str | None) -> bool:
    if timestamp is None:
        return False
    day = timestamp[:10]
    return (
        day >= condition.get("FROM", day)
        and day <= condition.get("TO", day)
        and day == condition.get("AT", day)
    )


def reference_campaigns(truth: dict[str, Any], conditions: dict[str, Any]) -> set[str] | None:
    if "campaigns" not in conditions and "get_campaigns" not in conditions:
        return None
    chosen = set(conditions.get("campaigns", []))
    if "get_campaigns" in conditions:
        name = conditions["get_campaigns"].get("name")
        chosen |= {
            cid for cid, c in truth["campaigns"].items() if name is None or text_holds(name, c["name"])
        }
    return chosen


def reference_messages(truth: dict[str, Any], conditions: dict[str, Any]) -> set[str] | None:
    if "messages" not in conditions and "get_messages" not in conditions:
        return None
    chosen = set(conditions.get("messages", []))
    if "get_messages" in conditions:
        nested = conditions["get_messages"]
        campaigns = reference_campaigns(truth, nested)
        types = [nested["type"]] if "type" in nested else ["newsletter", "autoresponder"]
        for mid, message in truth["messages"].items():
            if message["type"] not in types or (
                campaigns is not None and message["campaign"] not in campaigns
            ):
                continue
            if "name" in nested and not text_holds(nested["name"], message["name"]):
                continue
            if "subject" in nested and not text_holds(nested["subject"], message["subject"]):
                continue
            chosen.add(mid)
    return chosen


def reference_deleted(truth: dict[str, Any], conditions: dict[str, Any]) -> dict[str, dict[str, Any]]:
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for removal in truth["deleted"]:
        key = (removal["campaign"], removal["email"].casefold())
        if key not in newest or removal["deleted_on"] > newest[key]["deleted_on"]:
            newest[key] = removal
    campaigns = reference_campaigns(truth, conditions)
    messages = reference_messages(truth, conditions)
    expected = {}
    for removal in newest.values():
        general = removal["reason"].split("::")[0]
        if campaigns is not None and removal["campaign"] not in campaigns:
            continue
        if messages is not None and removal["message"] not in messages:
            continue
        if "reason" in conditions and conditions["reason"] not in (general, removal["reason"]):
            continue
        if "email" in conditions and not text_holds(conditions["email"], removal["email"]):
            continue
        if "created_on" in conditions and not day_holds(conditions["created_on"], removal["created_on"]):
            continue
        if "deleted_on" in conditions and not day_holds(conditions["deleted_on"], removal["deleted_on"]):
            continue
        entry = {"campaign": removal["campaign"]}
        if removal["message"] is not None:
            entry["message"] = removal["message"]
        entry |= {key: removal[key] for key in ("name", "email", "origin", "ip", "cycle_day")}
        entry |= {"reason": general, "created_on": removal["created_on"], "deleted_on": removal["deleted_on"]}
        expected[removal["contact_id"]] = entry
    return expected


def reference_contacts(truth: dict[str, Any], conditions: dict[str, Any]) -> dict[str, dict[str, Any]]:
    campaigns = reference_campaigns(truth, conditions)
    return {
        cid: contact
        for cid, contact in truth["contacts"].items()
        if (campaigns is None or contact["campaign"] in campaigns)
        and ("email" not in conditions or text_holds(conditions["email"], contact["email"]))
        and ("name" not in conditions or text_holds(conditions["name"], contact["name"]))
        and ("created_on" not in conditions or day_holds(conditions["created_on"], contact["created_on"]))
    }


# -- strategies ------------------------------------------------------------------------------------------


@st.composite
def pattern_from(draw: st.DrawFn, samples: list[str]) -> str:
    """A pattern made from a value in the data (so that it often matches something), or unrelated text."""
    mode = draw(st.sampled_from(["unrelated", "whole", "whole", "part", "part", "wildcards"]))
    if mode == "unrelated":
        return draw(st.text(alphabet="ab.@%_-xyzÉé", max_size=8))
    text = list(draw(st.sampled_from(samples)))
    if mode == "part" and text:
        start = draw(st.integers(0, len(text) - 1))
        end = draw(st.integers(start, len(text)))
        text = ["%", *text[start:end], "%"] if draw(st.booleans()) else ["%", *text[start:end]]
    if mode == "wildcards":
        for _ in range(draw(st.integers(1, 2))):
            text[draw(st.integers(0, len(text) - 1))] = draw(st.sampled_from(["_", "%", "X"]))
    joined = "".join(text)
    return joined.swapcase() if draw(st.booleans()) else joined


def text_condition(samples: list[str]) -> st.SearchStrategy[dict[str, str]]:
    operators = st.sampled_from(["EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS"])
    one = st.dictionaries(operators, pattern_from(samples), min_size=1, max_size=1)
    return st.one_of(one, one, st.dictionaries(operators, pattern_from(samples), min_size=2, max_size=2))


days = st.dates(min_value=date(2013, 6, 1), max_value=date(2027, 1, 31)).map(date.isoformat)
day_condition = st.dictionaries(st.sampled_from(["FROM", "TO", "AT"]), days, min_size=1, max_size=3)
campaign_ids = sorted(TRUTH["campaigns"])
message_ids = sorted(TRUTH["messages"])
campaign_names = [c["name"] for c in TRUTH["campaigns"].values()]
message_names = [m["name"] for m in TRUTH["messages"].values() if m["name"]]
subjects = sorted({m["subject"] for m in TRUTH["messages"].values()})
removed_emails = sorted({r["email"] for r in TRUTH["deleted"]})
active_emails = sorted({c["email"] for c in TRUTH["contacts"].values()})
names = sorted({c["name"] for c in TRUTH["contacts"].values()})


def some_of(strategies: dict[str, st.SearchStrategy[Any]], most: int) -> st.SearchStrategy[dict[str, Any]]:
    """Up to ``most`` of the conditions at once: more would nearly always match nothing."""
    keys = st.lists(st.sampled_from(sorted(strategies)), max_size=most, unique=True)
    return keys.flatmap(lambda chosen: st.fixed_dictionaries({key: strategies[key] for key in chosen}))


get_campaigns = some_of({"name": text_condition(campaign_names)}, 1)
ids_or_unknown = st.lists(st.sampled_from([*campaign_ids, "zzzzz"]), max_size=3)
get_messages = some_of(
    {
        "type": st.sampled_from(["newsletter", "autoresponder", "ab_test", "draft"]),
        "name": text_condition(message_names),
        "subject": text_condition(subjects),
        "campaigns": ids_or_unknown,
        "get_campaigns": get_campaigns,
    },
    2,
)
deleted_conditions = some_of(
    {
        "campaigns": ids_or_unknown,
        "get_campaigns": get_campaigns,
        "messages": st.lists(st.sampled_from([*message_ids, "zzzzz"]), max_size=4),
        "get_messages": get_messages,
        "email": text_condition(removed_emails),
        "reason": st.sampled_from([*GENERAL, *SPECIFIC]),
        "created_on": day_condition,
        "deleted_on": day_condition,
    },
    3,
)
contact_conditions = some_of(
    {
        "campaigns": ids_or_unknown,
        "get_campaigns": get_campaigns,
        "email": text_condition(active_emails),
        "name": text_condition(names),
        "created_on": day_condition,
    },
    3,
)


# -- the properties --------------------------------------------------------------------------------------


def _client(transport: str, server: BackgroundServer) -> httpx.AsyncClient:
    if transport == "in_process":
        return httpx.AsyncClient(transport=httpx.ASGITransport(APP), base_url="http://gr.emulator")
    return httpx.AsyncClient(base_url=server.url, verify=False)


def _blank_address(conditions: dict[str, Any]) -> bool:
    """An empty or blank ``EQUALS`` address, which the emulator refuses rather than reads leniently."""
    wanted = conditions.get("email", {}).get("EQUALS")
    return isinstance(wanted, str) and not wanted.strip()


async def _result(client: httpx.AsyncClient, method: str, conditions: dict[str, Any]) -> Any:
    request = {"jsonrpc": "2.0", "method": method, "params": [API_KEY, conditions], "id": 1}
    reply = (await client.post("/", json=request)).json()
    if _blank_address(conditions):
        assert reply["error"]["code"] == -32602 and "EQUALS" in reply["error"]["data"], reply
        return None
    assert "error" not in reply, reply
    return reply["result"]


@pytest.mark.parametrize("transport", ["in_process", "real_http"])
@PROPERTY_SETTINGS
@given(conditions=deleted_conditions)
async def test_get_contacts_deleted_agrees_with_the_reference_filter(
    transport: str, server: BackgroundServer, truth: dict[str, Any], conditions: dict[str, Any]
) -> None:
    async with _client(transport, server) as client:
        result = await _result(client, "get_contacts_deleted", conditions)

    assert result == (None if _blank_address(conditions) else reference_deleted(truth, conditions))


@pytest.mark.parametrize("transport", ["in_process", "real_http"])
@PROPERTY_SETTINGS
@given(email=text_condition(removed_emails), reason=st.none() | st.sampled_from([*GENERAL, *SPECIFIC]))
async def test_text_operators_and_reasons_agree_with_the_reference_filter(
    transport: str, server: BackgroundServer, truth: dict[str, Any], email: dict[str, str], reason: str | None
) -> None:
    conditions: dict[str, Any] = {"email": email} if reason is None else {"email": email, "reason": reason}
    async with _client(transport, server) as client:
        result = await _result(client, "get_contacts_deleted", conditions)

    assert result == (None if _blank_address(conditions) else reference_deleted(truth, conditions))


@pytest.mark.parametrize("transport", ["in_process", "real_http"])
@settings(PROPERTY_SETTINGS, max_examples=60)
@given(conditions=contact_conditions)
async def test_get_contacts_agrees_with_the_reference_filter(
    transport: str, server: BackgroundServer, truth: dict[str, Any], conditions: dict[str, Any]
) -> None:
    async with _client(transport, server) as client:
        result = await _result(client, "get_contacts", conditions)

    assert result == (None if _blank_address(conditions) else reference_contacts(truth, conditions))


@settings(max_examples=500, deadline=None)
@given(
    pattern=st.text(alphabet="aAbß.%_\\*+?()[]^$é\n", max_size=7),
    text=st.text(alphabet="aAbß.*+?\\é\n", max_size=7),
)
def test_the_emulators_like_agrees_with_the_hand_written_one(pattern: str, text: str) -> None:
    contains = TextCondition.parse("email", {"CONTAINS": pattern})
    not_contains = TextCondition.parse("email", {"NOT_CONTAINS": pattern})

    assert contains.matches(text) is like(pattern, text)
    assert not_contains.matches(text) is not like(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("%", "", True),
        ("_", "", False),
        ("a%", "abc", True),
        ("%b%", "abc", True),
        ("b", "abc", False),
        ("a_c", "AbC", True),
        ("a_c", "abbc", False),
        ("%@example.com", "x@EXAMPLE.com", True),
        ("%@example.com", "x@example.com.pl", False),
    ],
)
def test_the_reference_like_itself(pattern: str, text: str, expected: bool) -> None:
    assert like(pattern, text) is expected
