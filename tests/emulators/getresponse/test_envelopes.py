"""JSON-RPC transport: 1.0/2.0 envelopes, ids, batches, notifications, envelope and auth errors."""

from __future__ import annotations

import gzip
from dataclasses import replace
from typing import Any

import orjson
import pytest
from emulators.getresponse import GetResponseEmulatorSettings

from .conftest import API_KEY, SMALL_ACCOUNT, GetResponse

PING_V2 = {"jsonrpc": "2.0", "method": "ping", "params": [API_KEY], "id": 1}


async def _an_active_contact(gr: GetResponse) -> str:
    return next(iter((await gr.ground_truth())["contacts"]))


# -- envelopes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("request_id", [1, "abc-1", 2.5, 0, ""])
async def test_a_2_0_request_gets_a_2_0_reply_echoing_its_id_without_an_error_member(
    gr: GetResponse, request_id: Any
) -> None:
    response = await gr.post({**PING_V2, "id": request_id})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"jsonrpc": "2.0", "result": {"ping": "pong"}, "id": request_id}


@pytest.mark.parametrize("gr_settings", [replace(SMALL_ACCOUNT, v2_success_includes_null_error=True)])
async def test_the_2_0_success_reply_can_be_told_to_carry_a_null_error(gr: GetResponse) -> None:
    response = await gr.post(PING_V2)

    assert response.json() == {"jsonrpc": "2.0", "result": {"ping": "pong"}, "error": None, "id": 1}


async def test_a_1_0_request_gets_a_1_0_reply_with_a_null_error(gr: GetResponse) -> None:
    response = await gr.post({"method": "ping", "params": [API_KEY], "id": "x7"})

    assert response.status_code == 200
    assert response.json() == {"result": {"ping": "pong"}, "error": None, "id": "x7"}


async def test_a_1_0_method_error_has_a_null_result_and_the_error_object(gr: GetResponse) -> None:
    response = await gr.post({"method": "get_contact", "params": [API_KEY, {"contact": "nope0"}], "id": 3})

    assert response.status_code == 200
    assert response.json() == {"result": None, "error": {"code": -1, "message": "Missing contact"}, "id": 3}


async def test_a_2_0_request_with_a_null_id_is_answered_with_a_null_id(gr: GetResponse) -> None:
    response = await gr.post({**PING_V2, "id": None})

    assert response.status_code == 200
    assert response.json() == {"jsonrpc": "2.0", "result": {"ping": "pong"}, "id": None}


# -- envelope errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b'{"jsonrpc": "2.0", "method": "ping"', b"", b"\xff\xfe"])
async def test_a_body_that_is_not_json_is_a_parse_error(gr: GetResponse, body: bytes) -> None:
    response = await gr.http.post("/", content=body, headers={"content-type": "application/json"})

    assert response.status_code == 200
    reply = response.json()
    assert reply["id"] is None
    assert reply["error"]["code"] == -32700
    assert reply["error"]["message"] == "Parse error"


@pytest.mark.parametrize(
    ("request_body", "echoed_id"),
    [
        ({"jsonrpc": "2.0", "params": [API_KEY], "id": 4}, 4),
        ({"jsonrpc": "2.0", "method": 12, "params": [API_KEY], "id": 5}, 5),
        ({"jsonrpc": "2.0", "method": "", "id": 6}, 6),
        ({"jsonrpc": "1.1", "method": "ping", "params": [API_KEY], "id": 7}, None),
        ({"jsonrpc": "2.0", "method": "ping", "params": [API_KEY], "id": {"nested": 1}}, None),
        ({"jsonrpc": "2.0", "method": "ping", "params": [API_KEY], "id": True}, None),
        ("ping", None),
        (42, None),
        ([], None),
    ],
)
async def test_a_malformed_request_is_an_invalid_request(
    gr: GetResponse, request_body: Any, echoed_id: Any
) -> None:
    response = await gr.post(request_body)

    assert response.status_code == 200
    reply = response.json()
    assert reply["error"]["code"] == -32600
    assert reply["error"]["message"] == "Invalid Request"
    assert isinstance(reply["error"]["data"], str)
    assert reply["id"] == echoed_id


async def test_an_unknown_method_is_method_not_found(gr: GetResponse) -> None:
    reply = await gr.call("get_contacts_restored", {})

    assert reply["error"]["code"] == -32601
    assert reply["error"]["message"] == "Method not found"


@pytest.mark.parametrize(
    "params",
    [
        None,
        [],
        {"api_key": API_KEY},
        [123],
        [API_KEY, {}, {}],
    ],
)
async def test_params_that_are_not_key_then_object_are_invalid_params(gr: GetResponse, params: Any) -> None:
    request: dict[str, Any] = {"jsonrpc": "2.0", "method": "ping", "id": 9}
    if params is not None:
        request["params"] = params
    reply = (await gr.post(request)).json()

    assert reply["error"]["code"] == -32602
    assert reply["error"]["message"] == "Invalid params"
    assert API_KEY not in orjson.dumps(reply).decode()


@pytest.mark.parametrize("second_param", [["a", "list"], "text", 5, None])
async def test_a_second_param_that_is_not_an_object_gets_getresponses_detail(
    gr: GetResponse, second_param: Any
) -> None:
    reply = (
        await gr.post(
            {"jsonrpc": "2.0", "method": "get_contacts_deleted", "params": [API_KEY, second_param], "id": 2}
        )
    ).json()

    assert reply["error"] == {
        "code": -32602,
        "message": "Invalid params",
        "data": "Attribute params must be reference to hash",
    }


async def test_a_wrong_api_key_fails_verification_with_http_200_by_default(gr: GetResponse) -> None:
    response = await gr.post({**PING_V2, "params": ["not-the-key"]})

    assert response.status_code == 200
    assert response.json()["error"] == {"code": -1, "message": "API key verification failed"}
    assert "not-the-key" not in response.text


@pytest.mark.parametrize("gr_settings", [replace(SMALL_ACCOUNT, bad_key_http_status=403)])
async def test_a_wrong_api_key_can_be_answered_with_http_403(gr: GetResponse) -> None:
    response = await gr.post({**PING_V2, "params": ["not-the-key", {}]})

    assert response.status_code == 403
    assert response.json()["error"] == {"code": -1, "message": "API key verification failed"}


@pytest.mark.parametrize("gr_settings", [replace(SMALL_ACCOUNT, bad_key_http_status=403)])
async def test_inside_a_batch_a_wrong_key_stays_a_per_call_error_with_http_200(gr: GetResponse) -> None:
    response = await gr.post([PING_V2, {**PING_V2, "params": ["wrong"], "id": 2}])

    assert response.status_code == 200
    first, second = response.json()
    assert first["result"] == {"ping": "pong"}
    assert second["error"]["message"] == "API key verification failed"


@pytest.mark.parametrize(
    "gr_settings", [GetResponseEmulatorSettings(seed=11, contacts=50, api_keys=("k-one", "k-two"))]
)
async def test_every_configured_api_key_is_accepted(gr: GetResponse) -> None:
    for key in ("k-one", "k-two"):
        assert (await gr.post({**PING_V2, "params": [key]})).json()["result"] == {"ping": "pong"}


# -- request size --------------------------------------------------------------------------------------


def _padded_request(total_size: int) -> bytes:
    """A valid get_contacts_deleted request of exactly ``total_size`` bytes (padded inside a string)."""
    template = b'{"jsonrpc":"2.0","method":"ping","params":["%s"],"id":1,"pad":"%s"}'
    base = len(template) - 4 + len(API_KEY)
    return template % (API_KEY.encode(), b"x" * (total_size - base))


async def test_a_request_of_exactly_one_mebibyte_is_accepted(gr: GetResponse) -> None:
    body = _padded_request(1_048_576)
    assert len(body) == 1_048_576

    response = await gr.http.post("/", content=body)

    assert response.status_code == 200
    assert response.json()["result"] == {"ping": "pong"}


async def test_a_request_over_one_mebibyte_is_refused_with_413_before_it_runs(gr: GetResponse) -> None:
    body = _padded_request(1_048_577)

    response = await gr.http.post("/", content=body)

    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == -32600
    assert "1048576" in error["data"]
    assert (await gr.request_log())["operations"] == {}


async def test_a_streamed_body_without_content_length_is_cut_off_at_the_limit(gr: GetResponse) -> None:
    async def chunks() -> Any:
        for _ in range(17):
            yield b"x" * 65_536

    response = await gr.http.post("/", content=chunks())

    assert response.status_code == 413


# -- HTTP ----------------------------------------------------------------------------------------------


async def test_only_post_to_the_root_is_the_api(gr: GetResponse) -> None:
    assert (await gr.http.get("/")).status_code == 405
    assert (await gr.http.post("/other", json=PING_V2)).status_code == 404


async def test_large_replies_are_gzipped_for_clients_that_accept_it(gr: GetResponse) -> None:
    request = {"jsonrpc": "2.0", "method": "get_contacts_deleted", "params": [API_KEY], "id": 1}

    zipped = await gr.http.post("/", json=request, headers={"accept-encoding": "gzip"})
    plain = await gr.http.post("/", json=request, headers={"accept-encoding": "identity"})

    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert zipped.json() == plain.json()
    assert len(gzip.compress(plain.content)) < len(plain.content)


async def test_scripted_faults_hit_the_api_but_not_the_control_plane(gr: GetResponse) -> None:
    await gr.http.put("/_emulator/faults", json={"script": ["error:502"]})

    failed = await gr.post(PING_V2)
    assert (await gr.http.get("/_emulator/requests")).status_code == 200
    recovered = await gr.post(PING_V2)

    assert failed.status_code == 502
    assert recovered.json()["result"] == {"ping": "pong"}


# -- notifications -------------------------------------------------------------------------------------


async def test_a_notification_is_executed_and_answered_204_with_an_empty_body(gr: GetResponse) -> None:
    contact_id = await _an_active_contact(gr)

    response = await gr.post(
        {"jsonrpc": "2.0", "method": "delete_contact", "params": [API_KEY, {"contact": contact_id}]}
    )

    assert response.status_code == 204
    assert response.content == b""
    assert (await gr.error("get_contact", {"contact": contact_id}))["message"] == "Missing contact"


async def test_a_1_0_request_without_id_or_jsonrpc_is_a_notification_too(gr: GetResponse) -> None:
    contact_id = await _an_active_contact(gr)

    response = await gr.post({"method": "delete_contact", "params": [API_KEY, {"contact": contact_id}]})

    assert response.status_code == 204
    assert response.content == b""
    assert contact_id not in (await gr.ground_truth())["contacts"]


async def test_a_1_0_request_with_a_null_id_is_a_notification(gr: GetResponse) -> None:
    response = await gr.post({"method": "ping", "params": [API_KEY], "id": None})

    assert response.status_code == 204
    assert (await gr.request_log())["operations"] == {"ping": 1}


async def test_a_failing_notification_is_silent(gr: GetResponse) -> None:
    for request in (
        {"jsonrpc": "2.0", "method": "no_such_method", "params": [API_KEY]},
        {"jsonrpc": "2.0", "method": "get_contact", "params": [API_KEY, {"contact": "nope0"}]},
        {"jsonrpc": "2.0", "method": "ping", "params": ["wrong-key"]},
    ):
        response = await gr.post(request)
        assert response.status_code == 204
        assert response.content == b""


# -- batches -------------------------------------------------------------------------------------------


async def test_a_batch_answers_every_call_in_order_with_its_own_id_success_or_failure(
    gr: GetResponse,
) -> None:
    truth = await gr.ground_truth()
    contact_id = next(iter(truth["contacts"]))
    campaign_id = next(iter(truth["campaigns"]))
    batch = [
        {"jsonrpc": "2.0", "method": "get_contact", "params": [API_KEY, {"contact": contact_id}], "id": "a"},
        {"jsonrpc": "2.0", "method": "get_contact", "params": [API_KEY, {"contact": "nope0"}], "id": "b"},
        {"method": "get_campaign", "params": [API_KEY, {"campaign": campaign_id}], "id": 3},
        {"jsonrpc": "2.0", "method": "unknown_method", "params": [API_KEY], "id": 4},
        {"jsonrpc": "2.0", "method": "ping", "params": ["wrong"], "id": 5},
        {"jsonrpc": "2.0", "method": "get_contacts_deleted", "params": [API_KEY, "x"], "id": 6},
        {"not": "a request"},
        17,
    ]

    response = await gr.post(batch)

    assert response.status_code == 200
    replies = response.json()
    assert [reply["id"] for reply in replies] == ["a", "b", 3, 4, 5, 6, None, None]
    assert replies[0]["result"] == {contact_id: truth["contacts"][contact_id]}
    assert replies[1]["error"] == {"code": -1, "message": "Missing contact"}
    assert replies[2] == {"result": {campaign_id: truth["campaigns"][campaign_id]}, "error": None, "id": 3}
    assert [reply["error"]["code"] for reply in replies[3:]] == [-32601, -1, -32602, -32600, -32600]
    one_point_zero = {2, 6}  # no "jsonrpc" member: answered in the 1.0 style
    assert all(("jsonrpc" in reply) == (index not in one_point_zero) for index, reply in enumerate(replies))
    assert replies[6] == {"result": None, "error": replies[6]["error"], "id": None}


async def test_notifications_inside_a_batch_run_but_get_no_reply(gr: GetResponse) -> None:
    contact_id = await _an_active_contact(gr)
    batch = [
        {"jsonrpc": "2.0", "method": "ping", "params": [API_KEY], "id": 1},
        {"jsonrpc": "2.0", "method": "delete_contact", "params": [API_KEY, {"contact": contact_id}]},
        {"jsonrpc": "2.0", "method": "get_contact", "params": [API_KEY, {"contact": contact_id}], "id": 2},
    ]

    replies = (await gr.post(batch)).json()

    assert [reply["id"] for reply in replies] == [1, 2]
    assert replies[1]["error"]["message"] == "Missing contact"


async def test_a_batch_of_only_notifications_is_answered_204_with_an_empty_body(gr: GetResponse) -> None:
    contacts = list((await gr.ground_truth())["contacts"])[:3]
    batch = [
        {"jsonrpc": "2.0", "method": "delete_contact", "params": [API_KEY, {"contact": c}]} for c in contacts
    ]

    response = await gr.post(batch)

    assert response.status_code == 204
    assert response.content == b""
    assert not set(contacts) & set((await gr.ground_truth())["contacts"])


async def test_a_batch_is_one_http_request_and_one_method_record_per_call(gr: GetResponse) -> None:
    await gr.http.post("/_emulator/requests/reset")
    batch = [{"jsonrpc": "2.0", "method": "ping", "params": [API_KEY], "id": n} for n in range(100)]
    batch.append({"jsonrpc": "2.0", "method": "get_campaigns", "params": [API_KEY], "id": 100})

    replies = (await gr.post(batch)).json()

    assert len(replies) == 101
    assert await gr.request_log() == {"http_requests": 1, "operations": {"ping": 100, "get_campaigns": 1}}


async def test_calls_are_counted_even_when_they_fail_but_unknown_methods_are_not(gr: GetResponse) -> None:
    await gr.http.post("/_emulator/requests/reset")
    await gr.post(
        [
            {"jsonrpc": "2.0", "method": "get_contact", "params": [API_KEY, {"contact": "nope0"}], "id": 1},
            {"jsonrpc": "2.0", "method": "ping", "params": ["wrong"], "id": 2},
            {"jsonrpc": "2.0", "method": "nope", "params": [API_KEY], "id": 3},
        ]
    )

    assert (await gr.request_log())["operations"] == {"get_contact": 1, "ping": 1}
