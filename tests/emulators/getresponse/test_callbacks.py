"""Account callbacks: configuration methods and delivery to real local HTTP listeners."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from typing import Any

import pytest

from .conftest import SMALL_ACCOUNT, CallbackReceiver, GetResponse

QUICK_TIMEOUT = replace(SMALL_ACCOUNT, callback_timeout_seconds=0.3)
# Longer than any test runs: a delivery to a hanging listener ends only when the test releases it.
PATIENT = replace(SMALL_ACCOUNT, callback_timeout_seconds=600.0)


async def _set_callbacks(gr: GetResponse, uri: str, actions: list[str]) -> None:
    assert await gr.result("set_account_callbacks", {"uri": uri, "actions": actions}) == {"updated": 1}


async def _click_unsubscribe(
    gr: GetResponse, contact_id: str, message_id: str | None = None
) -> dict[str, Any]:
    response = await gr.http.post(
        "/_emulator/unsubscribe", json={"contact": contact_id, "message": message_id}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_callbacks_can_be_set_read_and_deleted(gr: GetResponse) -> None:
    assert await gr.result("get_account_callbacks") == {}

    await _set_callbacks(gr, "https://hooks.example.com/gr", ["unsubscribe", "subscribe", "unsubscribe"])

    assert await gr.result("get_account_callbacks") == {
        "uri": "https://hooks.example.com/gr",
        "actions": ["unsubscribe", "subscribe"],
    }
    assert await gr.result("delete_account_callbacks") == {"deleted": 1}
    assert await gr.result("get_account_callbacks") == {}


@pytest.mark.parametrize(
    "uri",
    ["not a uri", "ftp://example.com/x", "http://", "/relative/path", "http://exa mple.com/", "http://x:0/"],
)
async def test_an_unusable_uri_is_invalid_uri(gr: GetResponse, uri: str) -> None:
    error = await gr.error("set_account_callbacks", {"uri": uri, "actions": ["unsubscribe"]})

    assert error == {"code": -1, "message": "Invalid URI"}


@pytest.mark.parametrize("actions", [[], ["unsubscribe", "bounce"], "unsubscribe", None])
async def test_actions_must_be_a_non_empty_list_of_known_actions(gr: GetResponse, actions: Any) -> None:
    conditions = {"uri": "http://example.com/cb", "actions": actions}

    assert (await gr.error("set_account_callbacks", conditions))["code"] == -32602


async def test_an_unsubscribe_click_removes_the_contact_and_calls_the_listener_back(
    gr: GetResponse, receiver: CallbackReceiver
) -> None:
    truth = await gr.ground_truth()
    contact_id, contact = next(iter(truth["contacts"].items()))
    message_id = next(iter(truth["messages"]))
    await _set_callbacks(gr, f"{receiver.url}/ok?token=kept", ["unsubscribe"])

    clicked = await _click_unsubscribe(gr, contact_id, message_id)

    assert clicked == {"unsubscribed": 1, "contact": contact_id, "callback_sent": True}
    (callback,) = await receiver.wait_for(1)
    assert callback == {
        "method": "GET",
        "path": "/ok",
        "token": "kept",
        "action": "unsubscribe",
        "ACCOUNT_ID": callback["ACCOUNT_ID"],
        "account_login": "demo_account",
        "CAMPAIGN_ID": contact["campaign"],
        "campaign_name": truth["campaigns"][contact["campaign"]]["name"],
        "CONTACT_ID": contact_id,
        "contact_name": contact["name"],
        "contact_email": contact["email"],
    }
    assert len(callback["ACCOUNT_ID"]) == 5
    entry = (await gr.result("get_contacts_deleted", {"reason": "unsubscribe", "messages": [message_id]}))[
        contact_id
    ]
    assert entry["message"] == message_id
    (delivery,) = await gr.wait_for_deliveries(1)
    assert (delivery["action"], delivery["outcome"], delivery["status_code"]) == (
        "unsubscribe",
        "delivered",
        200,
    )


async def test_only_unsubscribe_clicks_call_back_and_only_when_the_action_is_configured(
    gr: GetResponse, receiver: CallbackReceiver
) -> None:
    contacts = list((await gr.ground_truth())["contacts"])
    await _set_callbacks(gr, f"{receiver.url}/ok", ["subscribe"])
    not_configured = await _click_unsubscribe(gr, contacts[0])
    await _set_callbacks(gr, f"{receiver.url}/ok", ["unsubscribe"])
    await gr.result("delete_contact", {"contact": contacts[1]})  # an API removal is not a click

    configured = await _click_unsubscribe(gr, contacts[2])

    assert not_configured["callback_sent"] is False
    assert configured["callback_sent"] is True
    await receiver.wait_for(1)
    assert [callback["CONTACT_ID"] for callback in receiver.requests] == [contacts[2]]
    # The receiver sees the request before the emulator has read the answer and logged the delivery.
    assert len(await gr.wait_for_deliveries(1)) == 1


@pytest.mark.parametrize("gr_settings", [PATIENT])
async def test_the_api_answers_while_the_listener_is_still_hanging(
    gr: GetResponse, receiver: CallbackReceiver
) -> None:
    """Ordered by events, not timed: the listener answers only when the test releases it."""
    contact_id = next(iter((await gr.ground_truth())["contacts"]))
    await _set_callbacks(gr, f"{receiver.url}/hang", ["unsubscribe"])

    clicked = await _click_unsubscribe(gr, contact_id)
    assert await gr.result("ping") == {"ping": "pong"}

    assert clicked["callback_sent"] is True
    assert await gr.deliveries() == []  # the callback has not finished: the API did not wait for it
    await receiver.wait_for(1)
    receiver.release.set()
    (delivery,) = await gr.wait_for_deliveries(1)
    assert delivery["outcome"] == "delivered"


@pytest.mark.parametrize("gr_settings", [QUICK_TIMEOUT])
async def test_a_listener_that_hangs_past_the_timeout_is_a_failed_delivery_not_retried(
    gr: GetResponse, receiver: CallbackReceiver
) -> None:
    contact_id = next(iter((await gr.ground_truth())["contacts"]))
    await _set_callbacks(gr, f"{receiver.url}/hang", ["unsubscribe"])

    clicked = await _click_unsubscribe(gr, contact_id)

    assert clicked["callback_sent"] is True
    (delivery,) = await gr.wait_for_deliveries(1)
    assert delivery["outcome"] == "failed"
    assert delivery["error"] in ("ReadTimeout", "TimeoutError")
    await asyncio.sleep(2 * QUICK_TIMEOUT.callback_timeout_seconds)  # time in which a retry would arrive
    assert len(receiver.requests) == 1
    assert len(await gr.deliveries()) == 1


async def test_an_unreachable_listener_is_a_lost_callback_not_an_api_error(gr: GetResponse) -> None:
    with socket.socket() as probe:  # a port that nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    contact_id = next(iter((await gr.ground_truth())["contacts"]))
    await _set_callbacks(gr, f"http://127.0.0.1:{closed_port}/cb", ["unsubscribe"])

    clicked = await _click_unsubscribe(gr, contact_id)

    assert clicked["unsubscribed"] == 1
    (delivery,) = await gr.wait_for_deliveries(1)
    assert (delivery["outcome"], delivery["error"]) == ("failed", "ConnectError")


async def test_a_confirmed_addition_sends_the_subscribe_callback(
    gr: GetResponse, receiver: CallbackReceiver
) -> None:
    campaign_id = next(iter((await gr.ground_truth())["campaigns"]))
    await _set_callbacks(gr, f"{receiver.url}/ok", ["subscribe", "unsubscribe"])
    await gr.result("add_contact", {"campaign": campaign_id, "email": "sub@example.org", "ip": "10.1.2.3"})

    await gr.advance_clock(SMALL_ACCOUNT.confirmation_delay_seconds + 1)
    await gr.result("ping")

    (callback,) = await receiver.wait_for(1)
    (contact_id,) = await gr.result("get_contacts", {"email": {"EQUALS": "sub@example.org"}})
    assert callback["action"] == "subscribe"
    assert callback["CONTACT_ID"] == contact_id
    assert (callback["contact_email"], callback["contact_ip"], callback["contact_origin"]) == (
        "sub@example.org",
        "10.1.2.3",
        "api",
    )
    assert "contact_name" not in callback  # optional, and this contact has no name


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"contact": "nope0", "message": None}, 404, "Missing contact"),
        ({"message": None}, 400, None),
        ({"contact": 5}, 400, None),
        ([], 400, None),
    ],
)
async def test_the_unsubscribe_control_route_reports_bad_input(
    gr: GetResponse, body: Any, status: int, error: str | None
) -> None:
    response = await gr.http.post("/_emulator/unsubscribe", json=body)

    assert response.status_code == status
    if error is not None:
        assert response.json() == {"error": error}


async def test_the_unsubscribe_control_route_checks_the_message(gr: GetResponse) -> None:
    contact_id = next(iter((await gr.ground_truth())["contacts"]))

    response = await gr.http.post("/_emulator/unsubscribe", json={"contact": contact_id, "message": "nope0"})

    assert (response.status_code, response.json()) == (404, {"error": "Missing message"})
    assert contact_id in (await gr.ground_truth())["contacts"]
