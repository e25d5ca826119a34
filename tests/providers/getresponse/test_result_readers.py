"""A call's own result reader (``RpcCall.read``) changes how a result is decoded, never what it says.

The listing batch decodes its active contacts with ``read_memberships`` (two fields each, in C).  Here
every reply shape the client knows is answered twice, once to calls with the reader and once to plain
calls: outcomes and errors must agree, the reader's value standing for ``memberships`` of the plain one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from msgspec import ValidationError

from gateway.providers.errors import ProviderError
from gateway.providers.getresponse import RpcCall
from gateway.providers.getresponse.records import Memberships, memberships, read_memberships

from .conftest import ClientFactory

ACTIVE = {
    "a1": {"email": "Ann@Example.com", "campaign": "c1", "name": "Ann", "changed_on": None},
    "b2": {"email": "bob@example.com", "campaign": "c2", "cycle_day": 3},
}
DELETED = {"d1": {"email": "dee@example.com", "campaign": "c1", "deleted_on": "2026-01-02 03:04:05"}}

BROKEN_RESULTS: list[Any] = [
    [], {"a": {"email": "x@y.z"}}, {"a": {"email": None, "campaign": "c"}}, {"a": []}, "nope",
    {"a": {"email": "", "campaign": "c"}}, {"a": {"email": "x@y.z", "campaign": 5}},
    {"a": {"email": 5, "campaign": "c"}}, {"a": {"email": "x@y.z", "campaign": ""}}, {"": {}},
    {"": {"email": "x@y.z", "campaign": "c"}}, None, 7,
]  # fmt: skip


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.fixed_dictionaries(
            {"email": st.text(min_size=1, max_size=20), "campaign": st.text(min_size=1, max_size=6)},
            optional={"name": st.none() | st.text(max_size=5), "cycle_day": st.integers(0, 99)},
        ),
        max_size=20,
    )
)
def test_read_memberships_reads_what_memberships_reads(result: dict[str, Any]) -> None:
    read = read_memberships(orjson.dumps(result))
    assert type(read) is Memberships and read == memberships(result)
    assert memberships(read) is read  # made already: taken as it is


@pytest.mark.parametrize("result", BROKEN_RESULTS)
def test_read_memberships_refuses_what_it_does_not_read_exactly(result: Any) -> None:
    """Refused, the result is parsed as plain JSON and ``memberships`` accepts it or names the fault
    (``test_a_reader_changes_no_outcome_of_any_reply`` checks the client does just that)."""
    empty_id = isinstance(result, dict) and "" in result and result[""] == {"email": "x@y.z", "campaign": "c"}
    # A shape it cannot decode is msgspec's refusal; a well-formed entry under an empty id is its own.
    expected = pytest.raises(ValueError, match="an empty id") if empty_id else pytest.raises(ValidationError)
    with expected as caught:
        read_memberships(orjson.dumps(result))
    assert empty_id or type(caught.value) is ValidationError


def _ok(call: dict[str, Any], result: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "result": result, "id": call["id"]}


Replies = Callable[[list[dict[str, Any]]], Any]
"""The body to answer a batch's calls with (``calls[0]``: get_contacts_deleted, ``calls[1]``:
get_contacts)."""

BODIES: dict[str, Replies] = {
    "in order": lambda calls: [_ok(calls[0], DELETED), _ok(calls[1], ACTIVE)],
    "reversed": lambda calls: [_ok(calls[1], ACTIVE), _ok(calls[0], DELETED)],
    "empty results": lambda calls: [_ok(calls[0], []), _ok(calls[1], [])],
    "a broken active entry": lambda calls: [_ok(calls[0], DELETED), _ok(calls[1], {"a": {"email": 5}})],
    "null result": lambda calls: [_ok(calls[0], DELETED), _ok(calls[1], None)],
    "one error": lambda calls: [
        _ok(calls[0], DELETED),
        {"jsonrpc": "2.0", "error": {"code": -1, "message": "Missing campaign"}, "id": calls[1]["id"]},
    ],
    "neither result nor error": lambda calls: [
        _ok(calls[0], DELETED), {"jsonrpc": "2.0", "id": calls[1]["id"]}
    ],
    "an unknown id": lambda calls: [_ok(calls[0], DELETED), {"jsonrpc": "2.0", "result": {}, "id": 999999}],
    "an orphan error": lambda calls: [
        _ok(calls[0], DELETED),
        {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": None},
    ],
    "the batch refused": lambda calls: {
        "jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None
    },
    "not an array of objects": lambda calls: [1, 2],
    "a number too large for 64 bits": lambda calls: [
        _ok(calls[0], DELETED),
        _ok(calls[1], {"a": {"email": "x@y.z", "campaign": "c", "n": 2**70}}),
    ],
}  # fmt: skip


def _transport(replies: Replies) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.dumps(replies(orjson.loads(request.content))).encode()  # json: big ints too
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


def _comparable(outcome: Any) -> Any:
    return (type(outcome).__name__, str(outcome)) if isinstance(outcome, ProviderError) else outcome


async def _outcomes(make_client: ClientFactory, replies: Replies, *, read: bool) -> Any:
    client = make_client(_transport(replies))
    active = RpcCall("get_contacts", read=read_memberships) if read else RpcCall("get_contacts")
    try:
        outcomes = await client.batch([RpcCall("get_contacts_deleted"), active])
    except ProviderError as error:
        return ("raised", _comparable(error))
    return ("ok", [_comparable(outcome) for outcome in outcomes])


@pytest.mark.parametrize("body", list(BODIES))
async def test_a_reader_changes_no_outcome_of_any_reply(make_client: ClientFactory, body: str) -> None:
    plain = await _outcomes(make_client, BODIES[body], read=False)
    read = await _outcomes(make_client, BODIES[body], read=True)
    if plain[0] == "raised":
        assert read == plain
        return
    (_, (deleted, active)), (_, (read_deleted, read_active)) = plain, read
    assert read_deleted == deleted
    if isinstance(read_active, Memberships):  # the reader's own value stands for the plain result's
        assert read_active == memberships(active)
    else:
        assert type(read_active) is type(active) and read_active == active
    read_whole = {"in order", "reversed", "a number too large for 64 bits"}  # the reader skips ``n``
    assert isinstance(read_active, Memberships) is (body in read_whole)
