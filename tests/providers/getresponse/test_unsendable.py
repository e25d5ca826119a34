"""A call whose parameters JSON cannot carry fails alone, typed, and is never sent."""

from __future__ import annotations

import httpx
import orjson

from gateway.providers.errors import RequestNotSendable
from gateway.providers.getresponse import RpcCall

from .conftest import ClientFactory, rpc_reply


async def test_an_unencodable_call_fails_alone_and_unsent(make_client: ClientFactory) -> None:
    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=rpc_reply(request, "pong"))

    client = make_client(httpx.MockTransport(upstream))
    lone_surrogate = "\ud800"  # valid in a Python str, not in UTF-8 JSON
    answers = await client.batch([RpcCall("get_contact", {"contact": lone_surrogate}), RpcCall("ping", {})])
    assert isinstance(answers[0], RequestNotSendable)
    assert answers[0].code == "PROVIDER_REQUEST_NOT_SENDABLE" and answers[0].__cause__ is None
    assert answers[1] == "pong"
    assert len(sent) == 1 and orjson.loads(sent[0].content)["method"] == "ping"
