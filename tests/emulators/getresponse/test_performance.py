"""The 10,000-deleted-contacts account: its size, and what ``get_contacts_deleted`` returns from it.

How fast these answers come is measured by ``python -m bench.emulator_speed`` (``make
bench-emulators``), not here: a timing bound fails on a busy machine without anything being wrong.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulators.getresponse import GetResponseEmulatorSettings, create_app
from starlette.applications import Starlette

from bench.emulator_speed import GR_CONDITIONS

from .conftest import API_KEY

BIG_ACCOUNT = GetResponseEmulatorSettings(seed=42, contacts=30_000, deleted_fraction=0.34)


@pytest.fixture(scope="module")
def big_app() -> Starlette:
    return create_app(BIG_ACCOUNT)


async def _deleted(app: Starlette, conditions: dict[str, Any], encoding: str) -> dict[str, Any]:
    request = {"jsonrpc": "2.0", "method": "get_contacts_deleted", "params": [API_KEY, conditions], "id": 1}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gr.emulator") as client:
        response = await client.post("/", json=request, headers={"accept-encoding": encoding})
    assert response.status_code == 200
    assert response.headers.get("content-encoding", "identity") == encoding
    result: dict[str, Any] = response.json()["result"]
    return result


async def test_the_big_account_lists_more_than_10000_deleted_contacts(big_app: Starlette) -> None:
    truth = big_app.state.store.ground_truth()
    distinct = {(r["campaign"], r["email"].casefold()) for r in truth["deleted"]}

    result = await _deleted(big_app, {}, "identity")

    assert len(result) == len(distinct) > 10_000


@pytest.mark.parametrize("name", GR_CONDITIONS)
async def test_the_benchmarked_conditions_find_the_same_entries_plain_and_gzipped(
    big_app: Starlette, name: str
) -> None:
    plain = await _deleted(big_app, GR_CONDITIONS[name], "identity")
    zipped = await _deleted(big_app, GR_CONDITIONS[name], "gzip")

    assert plain and plain == zipped
