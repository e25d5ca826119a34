"""GetResponse's unsubscribe callback end to end: registered by ``gateway callbacks register``, called
by the emulator itself (its simulated unsubscribe-link click), turned into an event before any sync,
and not repeated by the sync that finds the same deletion; a forged callback is refused, and the
secret stays out of the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.callbacks_command import register_callbacks, registered_callbacks
from gateway.core.principals import Scope

from ..feed.clients import ws_subscription
from .conftest import StackFactory
from .index_support import IndexStack, cc_delete, gr_delete, index_stack

SECRET = "callback-secret-4f1c9a"
SETTINGS = {"feed_poll_seconds": 0.05, "getresponse_callback_secret": SecretStr(SECRET)}


def _base(index: IndexStack) -> str:
    return str(index.stack.gateway.base_url)


async def test_an_unsubscribe_callback_is_an_event_before_the_sync_and_not_after_it(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path, **SETTINGS) as index:
        stack = index.stack
        await index.sync()
        masked = await register_callbacks(stack.settings, f"{_base(index)}/callbacks/getresponse")
        assert SECRET not in masked and "secret=" in masked
        shown = await registered_callbacks(stack.settings)
        assert shown is not None and shown[1] == ("unsubscribe",) and SECRET not in shown[0]
        truth = await stack.ground_truth()
        gr = list(truth["gr"]["contacts"])
        cc = [c["contact_id"] for c in truth["cc"]["contacts"].values() if c["status"] != "deleted"]
        key = await stack.key(Scope.CONTACTS_READ)
        async with ws_subscription(_base(index), key, {"after": "0"}) as ws:
            click = await stack.gr.post("/_emulator/unsubscribe", json={"contact": gr[0], "message": None})
            assert click.status_code == 200 and click.json()["callback_sent"], click.text
            event = await ws.event()  # no sync has run since the click
            assert event["provider"] == "GETRESPONSE" and event["contactId"] == gr[0], event
            assert event["source"] == "CALLBACK" and event["reason"] == "unsubscribe", event
            assert event["kind"] == "DELETED" and event["contact"] is None, event
            # The sync finds the deletion; its event is a repeat, dropped: the next event is another one.
            await index.sync()
            await gr_delete(stack, gr[1])
            await cc_delete(stack, cc[0])
            await index.sync()
            following = {(e["provider"], e["contactId"]) for e in await ws.events(2)}
            assert following == {("GETRESPONSE", gr[1]), ("CONSTANT_CONTACT", cc[0])}
        deliveries = (await stack.gr.get("/_emulator/callbacks")).json()["deliveries"]
        assert [(d["action"], d["status_code"]) for d in deliveries] == [("unsubscribe", 200)]


@pytest.mark.parametrize("secret", [None, "forged-value-93c1", SECRET[:-1], SECRET + "x"])
async def test_a_forged_callback_is_refused_and_the_secret_never_logged(
    make_stack: StackFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture, secret: str | None
) -> None:
    caplog.set_level(logging.DEBUG)
    async with index_stack(make_stack, "sqlite", tmp_path, **SETTINGS) as index:
        stack = index.stack
        await index.sync()
        truth = await stack.ground_truth()
        gr = list(truth["gr"]["contacts"])
        params = {"action": "unsubscribe", "CONTACT_ID": gr[0], "contact_email": "someone@example.com"}
        if secret is not None:
            params["secret"] = secret
        async with stack.client() as anonymous:
            refused = await anonymous.get("/callbacks/getresponse", params=params)
            assert refused.status_code == 403, refused.text
            assert refused.json()["errors"][0]["extensions"]["code"] == "CALLBACK_REFUSED"
            # The right secret is accepted (so the refusal was the secret's doing) ...
            accepted = await anonymous.get("/callbacks/getresponse", params={**params, "secret": SECRET})
            assert accepted.status_code == 200 and accepted.json()["event"] is not None, accepted.text
        # ... and it is the only event: the forged one wrote none.
        key = await stack.key(Scope.CONTACTS_READ)
        async with ws_subscription(_base(index), key, {"after": "0"}) as ws:
            first = await ws.event()
            assert first["source"] == "CALLBACK" and first["position"] == str(
                accepted.json()["event"]["position"]
            )
            await gr_delete(stack, gr[1])
            await index.sync()
            assert (await ws.event())["contactId"] == gr[1]
    # The gateway's own lines (the test's HTTP client logs the URLs it sends, secret included).
    gateway_lines = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith(("gateway", "uvicorn", "starlette"))
    )
    assert "refused a GetResponse callback" in gateway_lines
    assert "/callbacks/getresponse" in gateway_lines  # the access log saw the calls ...
    assert SECRET not in gateway_lines  # ... without their secret
    if secret is not None:
        assert secret not in gateway_lines


async def test_callbacks_without_a_configured_secret_are_refused(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    async with index_stack(make_stack, "sqlite", tmp_path) as index:
        params = {"action": "unsubscribe", "CONTACT_ID": "x", "contact_email": "a@example.com", "secret": ""}
        async with index.stack.client() as anonymous:
            refused = await anonymous.get("/callbacks/getresponse", params=params)
        assert refused.status_code == 403, refused.text
