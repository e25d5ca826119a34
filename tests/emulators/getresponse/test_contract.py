"""Contract: the seed document's example request is accepted and answers entries of exactly its shape."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .conftest import API_KEY, GetResponse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SEED_DOCUMENT = (FIXTURES / "getresponse-1.5-get_contacts_deleted.txt").read_text()
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _json_block(title: str, end_marker: str) -> Any:
    start = SEED_DOCUMENT.index(title) + len(title)
    return json.loads(SEED_DOCUMENT[start : SEED_DOCUMENT.index(end_marker, start)])


EXAMPLE_REQUEST = _json_block("Example Request JSON", "Example Response JSON")
EXAMPLE_RESPONSE = _json_block("Example Response JSON", "API-wide Errors")
EXAMPLE_ENTRY = next(iter(EXAMPLE_RESPONSE.values()))


def assert_shaped_like_example(entry: dict[str, Any]) -> None:
    """Same keys in the same order (``message`` only when known) and the same JSON types."""
    expected_keys = [key for key in EXAMPLE_ENTRY if key != "message" or "message" in entry]
    assert list(entry) == expected_keys
    for key in ("campaign", "name", "email", "origin", "reason"):
        assert isinstance(entry[key], str), (key, entry)
    if "message" in entry:
        assert isinstance(entry["message"], str)
    assert entry["ip"] is None or isinstance(entry["ip"], str)
    assert entry["cycle_day"] is None or (type(entry["cycle_day"]) is int)
    assert TIMESTAMP.fullmatch(entry["created_on"]) and TIMESTAMP.fullmatch(entry["deleted_on"])
    assert entry["created_on"] < entry["deleted_on"] or entry["created_on"] == entry["deleted_on"]
    assert "::" not in entry["reason"]


def _filled_example(truth: dict[str, Any], removal: dict[str, Any]) -> list[Any]:
    """The example request with its placeholders replaced by values that select ``removal``."""
    api_key, conditions = json.loads(json.dumps(EXAMPLE_REQUEST))
    assert api_key == "API_KEY"
    other_campaign = next(cid for cid in truth["campaigns"] if cid != removal["campaign"])
    conditions["campaigns"] = [removal["campaign"], other_campaign]
    conditions["messages"] = [removal["message"], removal["message"]]
    conditions["email"] = {"CONTAINS": "%" + removal["email"].split("@")[1].upper()}
    conditions["reason"] = removal["reason"].split("::")[0]
    conditions["created_on"] = {"TO": removal["created_on"][:10]}
    conditions["deleted_on"] = {"FROM": removal["deleted_on"][:10]}
    return [API_KEY, conditions]


async def test_the_example_request_is_accepted_and_answers_entries_shaped_like_the_example(
    gr: GetResponse,
) -> None:
    truth = await gr.ground_truth()
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for removal in truth["deleted"]:
        key = (removal["campaign"], removal["email"].casefold())
        if key not in newest or removal["deleted_on"] >= newest[key]["deleted_on"]:
            newest[key] = removal
    removal = next(r for r in newest.values() if r["message"] is not None)
    params = _filled_example(truth, removal)
    # The nested name conditions stay exactly as in the example ("my_campaign_%", "my_message_%").
    assert params[1]["get_campaigns"] == {"name": {"CONTAINS": "my_campaign_%"}}

    response = await gr.post({"jsonrpc": "2.0", "method": "get_contacts_deleted", "params": params, "id": 1})

    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == {"jsonrpc", "result", "id"}
    result = reply["result"]
    assert removal["contact_id"] in result
    assert result[removal["contact_id"]]["message"] == removal["message"]
    for entry in result.values():
        assert_shaped_like_example(entry)


async def test_every_entry_of_an_unfiltered_answer_has_the_example_shape(gr: GetResponse) -> None:
    result = await gr.result("get_contacts_deleted")
    assert result
    for entry in result.values():
        assert_shaped_like_example(entry)
    assert any("message" in entry for entry in result.values())
    assert any("message" not in entry for entry in result.values())
    assert any(entry["ip"] is None for entry in result.values())
    assert any(entry["cycle_day"] is None for entry in result.values())
    assert any(isinstance(entry["cycle_day"], int) for entry in result.values())


async def test_the_example_request_with_its_placeholders_left_in_is_a_typed_invalid_params_error(
    gr: GetResponse,
) -> None:
    params = [API_KEY, EXAMPLE_REQUEST[1]]
    response = await gr.post({"jsonrpc": "2.0", "method": "get_contacts_deleted", "params": params, "id": 7})

    assert response.status_code == 200
    reply = response.json()
    assert reply["id"] == 7
    assert reply["error"]["code"] == -32602
    assert reply["error"]["message"] == "Invalid params"
    assert "OPERATOR" in reply["error"]["data"]


async def test_the_official_javascript_example_envelope_is_accepted(gr: GetResponse) -> None:
    body = (
        '{"jsonrpc":"2.0","method":"get_contacts_deleted",'
        f'"params":["{API_KEY}",{{"deleted_on":{{"FROM":"2024-01-01"}}}}],"id":1}}'
    )
    response = await gr.http.post("/", content=body, headers={"content-type": "application/json"})

    reply = response.json()
    assert reply["id"] == 1
    assert reply["result"]
    assert all(entry["deleted_on"] >= "2024-01-01" for entry in reply["result"].values())
