"""Every envelope GetResponse has used, every error text mapped, and replies that do not fit.

The emulator answers one way per setting, so the variants it never produces (a legacy string error,
an unordered batch, a reply with a wrong id, ...) come from ``httpx.MockTransport``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import orjson
import pytest

from gateway.providers.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    InvalidUpstreamResponse,
    NotFound,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    ValidationFailed,
)
from gateway.providers.getresponse import RpcCall

from .conftest import API_KEY, SETTINGS, ClientFactory, Emulator, rpc_reply, secret_free

Handler = Callable[[httpx.Request], httpx.Response]


def _json(payload: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=orjson.dumps(payload), headers={"content-type": "application/json", **headers}
    )


def _replying(**envelope: Any) -> Handler:
    return lambda request: _json(rpc_reply(request, **envelope))


# -- what goes out -------------------------------------------------------------------------------------


async def test_requests_are_json_rpc_2_0_with_the_key_first_and_unique_ids(
    make_client: ClientFactory,
) -> None:
    sent: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.headers["content-type"] == "application/json"
        body = orjson.loads(request.content)
        sent.append(body)
        replies = (
            [{"jsonrpc": "2.0", "result": {}, "id": r["id"]} for r in body]
            if isinstance(body, list)
            else None
        )
        return _json(replies if replies is not None else {"jsonrpc": "2.0", "result": {}, "id": body["id"]})

    client = make_client(httpx.MockTransport(handler))
    await client.call("ping")
    await client.call("get_contacts_deleted", {"reason": "bounce"})
    await client.batch([RpcCall("get_campaigns"), RpcCall("get_messages", {"type": "draft"})])

    first, second, batch = sent
    assert first == {"jsonrpc": "2.0", "method": "ping", "params": [API_KEY], "id": first["id"]}
    assert second["params"] == [API_KEY, {"reason": "bounce"}]
    assert [call["params"] for call in batch] == [[API_KEY], [API_KEY, {"type": "draft"}]]
    ids = [first["id"], second["id"], *(call["id"] for call in batch)]
    assert len(set(ids)) == 4


# -- success envelopes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "envelope",
    [
        {},  # 2.0, no error member
        {"error": None},  # 2.0 with "error": null
        {"jsonrpc": None, "error": None},  # 1.0 style: {"result", "error": null, "id"}
    ],
    ids=["2.0", "2.0-null-error", "1.0"],
)
async def test_every_success_envelope_gives_the_result(
    make_client: ClientFactory, envelope: dict[str, Any]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        reply = rpc_reply(request, {"ping": "pong"}, **envelope)
        if reply.get("jsonrpc") is None:
            del reply["jsonrpc"]
        return _json(reply)

    assert await make_client(httpx.MockTransport(handler)).ping() is True


@pytest.mark.parametrize(
    "gr_settings", [replace(SETTINGS, v2_success_includes_null_error=True)], indirect=True
)
async def test_the_emulator_null_error_variant(emulator: Emulator) -> None:
    client = emulator.client()

    assert await client.ping() is True
    assert isinstance((await client.batch([RpcCall("get_contact", {"contact": "nope0"})]))[0], NotFound)


# -- error envelopes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"code": -1, "message": "API key verification failed"}, AuthenticationFailed),
        ({"code": -1, "message": "API client IP not allowed"}, Forbidden),
        ({"code": -1, "message": "Missing contact"}, NotFound),
        ({"code": -1, "message": "Missing Contact"}, NotFound),
        ({"code": -1, "message": "Missing campaign"}, NotFound),
        ({"code": -1, "message": "Missing message"}, NotFound),
        ({"code": -1, "message": "Contact already queued for target campaign"}, Conflict),
        ({"code": -1, "message": "Contact already added to target campaign"}, Conflict),
        ({"code": -1, "message": "Contact already exist in target campaign"}, Conflict),
        ({"code": -1, "message": "Contact already exists in target campaign"}, Conflict),
        ({"code": -32602, "message": "Invalid params", "data": "Attribute params must be reference to hash"},
         ValidationFailed),
        ({"code": -1, "message": "Invalid email syntax"}, ValidationFailed),
        ({"code": -1, "message": "Invalid URI"}, ValidationFailed),
        ({"code": -32601, "message": "Method not found", "data": "frobnicate"}, ValidationFailed),
        ({"code": -32600, "message": "Invalid Request"}, ValidationFailed),
        ({"code": -32700, "message": "Parse error"}, ValidationFailed),
        ({"code": -32603, "message": "Internal error"}, ProviderUnavailable),
        ({"code": -32001, "message": "Server busy"}, ProviderUnavailable),
        ({"code": -1, "message": "Daily limit of newsletters exceeded"}, RateLimited),
        ({"code": -2, "message": "Missing contact"}, NotFound),  # 2012 code
        ("Missing contact", NotFound),  # pre-2012 bare string
        ("API key verification failed", AuthenticationFailed),
        ({"code": -1, "message": "Something nobody documented"}, ProviderError),
    ],
)  # fmt: skip
async def test_error_envelopes_map_to_typed_errors(
    make_client: ClientFactory, error: Any, expected: type[ProviderError]
) -> None:
    client = make_client(httpx.MockTransport(_replying(error=error)))

    with pytest.raises(ProviderError) as caught:
        await client.call("get_contact", {"contact": "x"})

    assert type(caught.value) is expected
    secret_free(caught.value)
    text = error if isinstance(error, str) else error["message"]
    assert caught.value.message.startswith(f"get_contact: {text}")
    assert client.stats.retries == 0


async def test_a_legacy_1_0_error_reply_with_a_null_result(make_client: ClientFactory) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _json({"result": None, "error": "Missing campaign", "id": orjson.loads(request.content)["id"]})

    with pytest.raises(NotFound, match="Missing campaign"):
        await make_client(httpx.MockTransport(handler)).call("get_campaign", {"campaign": "x"})


async def test_invalid_params_keeps_the_detail(make_client: ClientFactory) -> None:
    error = {
        "code": -32602,
        "message": "Invalid params",
        "data": "Attribute params must be reference to hash",
    }
    client = make_client(httpx.MockTransport(_replying(error=error)))

    with pytest.raises(ValidationFailed) as caught:
        await client.call("get_contacts")

    assert caught.value.message == "get_contacts: Invalid params (Attribute params must be reference to hash)"
    assert caught.value.details[0].message == "Attribute params must be reference to hash"


async def test_upstream_text_that_echoes_the_key_is_scrubbed(make_client: ClientFactory) -> None:
    error = {
        "code": -1,
        "message": f"API key verification failed for {API_KEY}",
        "data": {"params": [API_KEY]},
    }
    client = make_client(httpx.MockTransport(_replying(error=error)))

    with pytest.raises(AuthenticationFailed) as caught:
        await client.ping()

    secret_free(caught.value)
    assert "[redacted]" in caught.value.message


@pytest.mark.parametrize("body", [b"", b"Forbidden", b'{"error": null}'])
async def test_http_403_without_a_json_rpc_error_is_authentication_failed(
    make_client: ClientFactory, body: bytes
) -> None:
    client = make_client(httpx.MockTransport(lambda request: httpx.Response(403, content=body)))

    with pytest.raises(AuthenticationFailed) as caught:
        await client.ping()

    assert caught.value.status_code == 403
    assert client.stats.retries == 0 and client.breaker.consecutive_failures == 0


# -- notifications and 204 -----------------------------------------------------------------------------


async def test_204_answers_notifications_but_is_invalid_for_a_call(make_client: ClientFactory) -> None:
    client = make_client(httpx.MockTransport(lambda request: httpx.Response(204)))

    await client.notify("ping")  # no error
    with pytest.raises(InvalidUpstreamResponse, match="204"):
        await client.call("ping")


# -- batches -------------------------------------------------------------------------------------------


def _batch_handler(rewrite: Callable[[list[dict[str, Any]]], Any]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        calls = orjson.loads(request.content)
        replies = [
            {"jsonrpc": "2.0", "result": {"method": c["method"], "id": c["id"]}, "id": c["id"]} for c in calls
        ]
        return _json(rewrite(replies))

    return handler


async def test_batch_replies_are_matched_by_id_in_any_order(make_client: ClientFactory) -> None:
    # placeholder method names: the test is about envelopes, so it sends calls the documentation lacks
    client = make_client(
        httpx.MockTransport(_batch_handler(lambda replies: replies[::-1])), check_contract=False
    )

    answers = await client.batch([RpcCall(f"m{n}") for n in range(5)])

    assert [answer["method"] for answer in answers] == [f"m{n}" for n in range(5)]


@pytest.mark.parametrize(
    "rewrite",
    [
        lambda replies: replies[1:],  # one call unanswered
        lambda replies: [*replies, replies[0]],  # an id twice
        lambda replies: [*replies[1:], {**replies[0], "id": 999}],  # an id never sent
        lambda replies: [*replies[1:], {**replies[0], "id": str(replies[0]["id"])}],  # "1" is not 1
        lambda replies: [*replies[1:], "not an object"],
        lambda replies: {"jsonrpc": "2.0", "result": {}, "id": None},  # an object, not an array
        lambda replies: [
            *replies[1:],
            {"jsonrpc": "2.0", "id": replies[0]["id"]},
        ],  # neither result nor error
    ],
    ids=["missing", "repeated", "unknown", "string-id", "not-object", "not-array", "no-result"],
)
async def test_a_batch_reply_that_does_not_fit_the_request_is_invalid_and_retried(
    make_client: ClientFactory, rewrite: Callable[[list[dict[str, Any]]], Any]
) -> None:
    # placeholder method names: the test is about envelopes, so it sends calls the documentation lacks
    client = make_client(httpx.MockTransport(_batch_handler(rewrite)), check_contract=False)

    with pytest.raises(InvalidUpstreamResponse):
        await client.batch([RpcCall("a"), RpcCall("b"), RpcCall("c")])

    assert client.stats.attempts == 3 and client.stats.retries == 2


async def test_one_unattributed_error_goes_to_the_one_unanswered_call(make_client: ClientFactory) -> None:
    orphan = {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None}
    client = make_client(
        httpx.MockTransport(_batch_handler(lambda replies: [*replies[:1], orphan, *replies[2:]])),
        check_contract=False,  # placeholder method names, as above
    )

    answers = await client.batch([RpcCall("a"), RpcCall("b"), RpcCall("c")])

    assert answers[0]["method"] == "a" and answers[2]["method"] == "c"
    assert isinstance(answers[1], ValidationFailed) and answers[1].message == "b: Invalid Request"


async def test_a_whole_batch_refused_raises_the_error(make_client: ClientFactory) -> None:
    refused = {
        "jsonrpc": "2.0",
        "error": {"code": -32600, "message": "Invalid Request", "data": "no batches"},
    }
    client = make_client(
        httpx.MockTransport(lambda request: _json({**refused, "id": None})),
        check_contract=False,  # placeholder method names, as above
    )

    with pytest.raises(ValidationFailed, match="no batches"):
        await client.batch([RpcCall("a"), RpcCall("b")])


@pytest.mark.parametrize(
    "reply",
    [
        lambda sent: {"jsonrpc": "2.0", "result": {}, "id": sent["id"] + 1},
        lambda sent: {"jsonrpc": "2.0", "result": {}},
        lambda sent: {"jsonrpc": "2.0", "id": sent["id"]},
        lambda sent: [{"jsonrpc": "2.0", "result": {}, "id": sent["id"]}],
        lambda sent: {"jsonrpc": "2.0", "error": 42, "id": sent["id"]},
    ],
    ids=["wrong-id", "no-id", "no-result", "array", "error-not-readable"],
)
async def test_a_single_reply_that_does_not_fit_is_invalid(
    make_client: ClientFactory, reply: Callable[[dict[str, Any]], Any]
) -> None:
    client = make_client(httpx.MockTransport(lambda request: _json(reply(orjson.loads(request.content)))))

    with pytest.raises(InvalidUpstreamResponse) as caught:
        await client.call("get_contacts")

    secret_free(caught.value)


async def test_the_packing_never_exceeds_the_limit_and_fills_each_request(make_client: ClientFactory) -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(len(request.content))
        return _batch_handler(lambda replies: replies)(request)

    client = make_client(httpx.MockTransport(handler), max_request_bytes=2000)
    calls = [RpcCall("get_contacts", {"email": {"EQUALS": "x" * (100 + n)}}) for n in range(40)]

    answers = await client.batch(calls)

    assert [answer["method"] for answer in answers] == ["get_contacts"] * 40
    assert max(sizes) <= 2000 and sum(sizes) > 2000 * (len(sizes) - 1) * 0.9
    assert len(sizes) == -(-sum(sizes) // 2000)  # as few requests as the sizes allow
