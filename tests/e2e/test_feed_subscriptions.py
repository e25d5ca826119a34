"""The deletion feed's subscriptions end to end, over real sockets: contacts deleted at the emulators
through their own APIs reach live ``graphql-transport-ws`` and SSE subscribers after one sync, exactly
once; a subscriber resumes from its last position; scopes and per-principal limits hold.

Subscriptions start at ``after: "0"``: the first sync is a backfill, which writes no events, so the
outbox is empty and a subscriber registered a moment late still misses nothing.  "Nothing twice" is
shown by a later, known event arriving next (never by waiting for silence).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.core.persisted_documents import document_hash
from gateway.core.principals import Scope

from ..feed.clients import SUBSCRIPTION, close_code, open_ws, sse_subscription, ws_subscription
from .conftest import StackFactory
from .index_support import IndexStack, cc_delete, gr_delete, index_stack

FAST = {"feed_poll_seconds": 0.05}


def _base(index: IndexStack) -> str:
    return str(index.stack.gateway.base_url)


async def _active(index: IndexStack) -> tuple[list[str], list[str]]:
    truth = await index.stack.ground_truth()
    cc = [c["contact_id"] for c in truth["cc"]["contacts"].values() if c["status"] != "deleted"]
    return cc, list(truth["gr"]["contacts"])


def _is(event: dict[str, Any], provider: str, contact_id: str) -> bool:
    return bool(event["provider"] == provider and event["contactId"] == contact_id)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_deletion_at_each_provider_reaches_ws_and_sse_once(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    async with index_stack(make_stack, backend, tmp_path, **FAST) as index:
        await index.sync()
        cc, gr = await _active(index)
        key = await index.stack.key(Scope.CONTACTS_READ)
        start = {"after": "0"}
        async with (
            ws_subscription(_base(index), key, start) as ws,
            sse_subscription(_base(index), key, start) as sse,
        ):
            await cc_delete(index.stack, cc[0])
            await gr_delete(index.stack, gr[0])
            await index.sync()
            for received in (await ws.events(2), await sse.events(2)):
                by_provider = {event["provider"]: event for event in received}
                assert _is(by_provider["CONSTANT_CONTACT"], "CONSTANT_CONTACT", cc[0]), received
                assert _is(by_provider["GETRESPONSE"], "GETRESPONSE", gr[0]), received
                for event in received:
                    assert event["kind"] == "DELETED" and event["source"] == "SYNC", event
                    # The deleted contact itself, as the listing shows it.
                    assert event["contact"]["contactId"] == event["contactId"], event
                    assert event["contact"]["email"] == event["email"], event
                positions = [int(event["position"]) for event in received]
                assert positions == sorted(positions) and len(set(positions)) == 2
            # A second sync finds nothing new; the next event is the next deletion, not a repeat.
            await index.sync()
            await cc_delete(index.stack, cc[1])
            await index.sync()
            assert _is(await ws.event(), "CONSTANT_CONTACT", cc[1])
            assert _is(await sse.event(), "CONSTANT_CONTACT", cc[1])


async def test_a_subscriber_resumes_from_its_last_position(make_stack: StackFactory, tmp_path: Path) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path, **FAST) as index:
        await index.sync()
        cc, gr = await _active(index)
        key = await index.stack.key(Scope.CONTACTS_READ)
        async with ws_subscription(_base(index), key, {"after": "0"}) as ws:
            await cc_delete(index.stack, cc[0])
            await gr_delete(index.stack, gr[0])
            await index.sync()
            first = await ws.event()  # then the client goes away, the second event unread
        # While it is away: more deletions, found by a sync.
        await cc_delete(index.stack, cc[1])
        await gr_delete(index.stack, gr[1])
        await index.sync()
        seen = {(first["provider"], first["contactId"])}
        expected = {("CONSTANT_CONTACT", cc[0]), ("GETRESPONSE", gr[0])}
        expected |= {("CONSTANT_CONTACT", cc[1]), ("GETRESPONSE", gr[1])}
        async with sse_subscription(_base(index), key, {"after": first["position"]}) as sse:
            resumed = await sse.events(3)
            assert [int(e["position"]) for e in resumed] == sorted(int(e["position"]) for e in resumed)
            assert all(int(e["position"]) > int(first["position"]) for e in resumed)
            got = seen | {(e["provider"], e["contactId"]) for e in resumed}
            assert got == expected, resumed
            # Nothing more of the past: the next event is a new deletion.
            await cc_delete(index.stack, cc[2])
            await index.sync()
            assert _is(await sse.event(), "CONSTANT_CONTACT", cc[2])


async def test_filters_select_providers(make_stack: StackFactory, tmp_path: Path) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path, **FAST) as index:
        await index.sync()
        cc, gr = await _active(index)
        key = await index.stack.key(Scope.CONTACTS_READ)
        only_gr = {"after": "0", "filter": {"providers": ["GETRESPONSE"], "kinds": ["DELETED"]}}
        async with ws_subscription(_base(index), key, only_gr, in_header=True) as ws:
            await cc_delete(index.stack, cc[0])
            await gr_delete(index.stack, gr[0])
            await index.sync()
            assert _is(await ws.event(), "GETRESPONSE", gr[0])
            await cc_delete(index.stack, cc[1])
            await gr_delete(index.stack, gr[1])
            await index.sync()
            assert _is(await ws.event(), "GETRESPONSE", gr[1])


async def test_websocket_refuses_a_missing_bad_or_unscoped_credential(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        unscoped = await index.stack.key(Scope.AUDIT_READ)
        for init in ({}, {"authorization": "Bearer not-a-key"}, {"authorization": f"Bearer {unscoped}"}):
            connection = await open_ws(_base(index), init=init)
            assert await close_code(connection) == 4403, init


async def test_sse_refuses_a_missing_credential_and_an_unscoped_one(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        async with sse_subscription(_base(index), None, {"after": "0"}) as anonymous:
            kind, body = await anonymous.message()
            assert kind == "http" and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        unscoped = await index.stack.key(Scope.AUDIT_READ)
        async with sse_subscription(_base(index), unscoped, {"after": "0"}) as refused:
            kind, body = await refused.message()
            assert kind == "next" and body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
            assert (await refused.message())[0] == "complete"


async def test_a_principal_holds_at_most_its_limit_of_subscriptions(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    limits = {**FAST, "feed_max_subscriptions_per_principal": 1}
    async with index_stack(make_stack, "sqlite", tmp_path, **limits) as index:
        await index.sync()
        cc, _ = await _active(index)
        key = await index.stack.key(Scope.CONTACTS_READ)
        other = await index.stack.key(Scope.CONTACTS_READ)
        async with ws_subscription(_base(index), key, {"after": "0"}) as ws:
            await cc_delete(index.stack, cc[0])
            await index.sync()
            assert _is(await ws.event(), "CONSTANT_CONTACT", cc[0])  # registered and live
            async with sse_subscription(_base(index), key, {"after": "0"}) as second:
                kind, body = await second.message()
                assert kind == "next", body
                assert body["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT_EXCEEDED", body
            # Another principal is not affected.
            async with sse_subscription(_base(index), other, {"after": "0"}) as third:
                assert _is(await third.event(), "CONSTANT_CONTACT", cc[0])


async def test_a_trusted_documents_manifest_binds_subscriptions_too(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({document_hash(SUBSCRIPTION): SUBSCRIPTION}))
    async with index_stack(make_stack, "sqlite", tmp_path, trusted_documents=manifest, **FAST) as index:
        await index.sync()
        cc, _ = await _active(index)
        key = await index.stack.key(Scope.CONTACTS_READ)
        other = SUBSCRIPTION.replace("campaignId", "")
        async with ws_subscription(_base(index), key, {"after": "0"}, query=other) as untrusted:
            message = await untrusted.message()
            assert message["type"] == "error", message
            assert message["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        async with sse_subscription(_base(index), key, {"after": "0"}, query=other) as refused:
            kind, body = await refused.message()
            assert kind == "http" and body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        async with (
            ws_subscription(_base(index), key, {"after": "0"}) as ws,
            sse_subscription(_base(index), key, {"after": "0"}) as sse,
        ):
            await cc_delete(index.stack, cc[0])
            await index.sync()
            assert _is(await ws.event(), "CONSTANT_CONTACT", cc[0])
            assert _is(await sse.event(), "CONSTANT_CONTACT", cc[0])


async def test_a_quiet_sse_stream_keeps_alive_and_still_delivers(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path, feed_keepalive_seconds=0.05, **FAST) as index:
        await index.sync()
        cc, _ = await _active(index)
        key = await index.stack.key(Scope.CONTACTS_READ)
        async with sse_subscription(_base(index), key, {"after": "0"}) as sse:
            for _ in range(600):  # bounded: a failure, not a measurement
                if sse.comments >= 2:
                    break
                await asyncio.sleep(0.05)
            assert sse.comments >= 2
            await cc_delete(index.stack, cc[0])
            await index.sync()
            assert _is(await sse.event(), "CONSTANT_CONTACT", cc[0])


async def test_a_subscription_sent_for_one_json_answer_is_refused_plainly(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        response = await index.stack.gateway.post(
            "/graphql", json={"query": SUBSCRIPTION}, headers={"accept": "application/json"}
        )
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "OPERATION_NOT_SUPPORTED", body
        assert "subscriptions are not allowed" in body["errors"][0]["message"]


async def test_a_malformed_subscribe_closes_the_socket_with_4400(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        key = await index.stack.key(Scope.CONTACTS_READ)
        connection = await open_ws(_base(index), init={"authorization": f"Bearer {key}"})
        assert json.loads(await connection.recv())["type"] == "connection_ack"
        await connection.send(json.dumps({"id": "x", "type": "subscribe", "payload": "not an object"}))
        assert await close_code(connection) == 4400


async def test_a_principal_holds_at_most_its_limit_of_websocket_connections(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    limits = {**FAST, "feed_max_connections_per_principal": 2}
    async with index_stack(make_stack, "sqlite", tmp_path, **limits) as index:
        key = await index.stack.key(Scope.CONTACTS_READ)
        other = await index.stack.key(Scope.CONTACTS_READ)
        init = {"authorization": f"Bearer {key}"}
        first, second = await open_ws(_base(index), init=init), await open_ws(_base(index), init=init)
        for connection in (first, second):
            assert json.loads(await connection.recv())["type"] == "connection_ack"
        third = await open_ws(_base(index), init=init)
        assert await close_code(third) == 4403  # one more than the limit
        elsewhere = await open_ws(_base(index), init={"authorization": f"Bearer {other}"})
        assert json.loads(await elsewhere.recv())["type"] == "connection_ack"  # another principal's
        await first.close()
        await asyncio.sleep(0.2)  # the server sees the close
        again = await open_ws(_base(index), init=init)
        assert json.loads(await again.recv())["type"] == "connection_ack"  # a closed one frees its place
        for connection in (second, elsewhere, again):
            await connection.close()
