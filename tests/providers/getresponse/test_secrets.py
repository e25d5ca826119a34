"""The API key never shows: not in reprs, not in any error's text or chain, not in any log record.

(Every test in this package also checks its log records for the key, via an autouse fixture.)
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from gateway.providers.errors import ProviderError
from gateway.providers.getresponse import RpcCall
from gateway.providers.resilience import Timeouts

from .conftest import API_KEY, Emulator, secret_free


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


async def test_the_client_repr_and_attributes_hide_the_key(emulator: Emulator) -> None:
    client = emulator.client()

    shown = [repr(client), str(client), *(repr(value) for value in vars(client).values())]

    assert not any(API_KEY in text for text in shown)
    assert "GetResponseClient(api_url=" in repr(client)


async def test_no_error_shows_the_key_in_its_text_or_its_chain(emulator: Emulator, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    # check_contract=False: the batch below sends an undocumented reason, on purpose.
    client = emulator.client(timeouts=Timeouts(connect=1.0, read=1.0, total=0.15), check_contract=False)
    errors: list[BaseException] = []
    await emulator.faults(
        script=["drop"] * 3 + ["malformed"] * 3 + ["hang"] * 3 + ["error:503"] * 3, hang_seconds=0.5
    )
    for _ in range(4):
        with pytest.raises(ProviderError) as caught:
            await client.ping()
        errors.append(caught.value)
    with pytest.raises(ProviderError) as caught:
        await emulator.client(api_key="another-key-0000").ping()
    errors.append(caught.value)
    errors += [
        answer
        for answer in await client.batch(
            [RpcCall("get_contact", {"contact": "nope0"}), RpcCall("get_contacts_deleted", {"reason": "x"})]
        )
        if isinstance(answer, ProviderError)
    ]

    assert len(errors) == 7
    for error in errors:
        for linked in _chain(error):
            secret_free(linked)
            assert not hasattr(linked, "request"), f"{type(linked).__name__} carries the request"
    assert caplog.records, "DEBUG logging was on: httpx and the client should have logged something"
    assert API_KEY not in caplog.text
