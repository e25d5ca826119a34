"""The 10,000-deleted-contacts account: size, and the speed of ``get_contacts_deleted`` in process.

Timings are medians of 7 requests through ``httpx.ASGITransport`` (the whole JSON-RPC path: envelope,
query, serialisation).  ``identity`` is the emulator's own work; ``gzip`` adds compressing a 2.5 MB
reply, which is most of the cost of the unfiltered answer.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx
import pytest
from emulators.getresponse import GetResponseEmulatorSettings, create_app
from starlette.applications import Starlette

from .conftest import API_KEY

BIG_ACCOUNT = GetResponseEmulatorSettings(seed=42, contacts=30_000, deleted_fraction=0.34)
CONDITIONS = {
    "none": {},
    "several": {
        "get_campaigns": {"name": {"CONTAINS": "%news%"}},
        "email": {"NOT_CONTAINS": "%.org"},
        "reason": "bounce",
        "deleted_on": {"FROM": "2020-01-01", "TO": "2025-12-31"},
    },
    "messages": {"get_messages": {"name": {"CONTAINS": "%day%"}}, "created_on": {"TO": "2022-06-30"}},
}


@pytest.fixture(scope="module")
def big_app() -> Starlette:
    return create_app(BIG_ACCOUNT)


async def _median_ms(app: Starlette, conditions: dict[str, Any], encoding: str) -> tuple[float, int]:
    request = {"jsonrpc": "2.0", "method": "get_contacts_deleted", "params": [API_KEY, conditions], "id": 1}
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gr.emulator") as client:
        for _ in range(7):
            started = time.perf_counter()
            response = await client.post("/", json=request, headers={"accept-encoding": encoding})
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return statistics.median(timings), len(response.json()["result"])


async def test_the_big_account_lists_more_than_10000_deleted_contacts(big_app: Starlette) -> None:
    truth = big_app.state.store.ground_truth()
    distinct = {(r["campaign"], r["email"].casefold()) for r in truth["deleted"]}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(big_app), base_url="http://gr.emulator"
    ) as client:
        request = {"jsonrpc": "2.0", "method": "get_contacts_deleted", "params": [API_KEY], "id": 1}
        result = (await client.post("/", json=request)).json()["result"]

    assert len(result) == len(distinct) > 10_000


@pytest.mark.parametrize("name", CONDITIONS)
async def test_get_contacts_deleted_over_10000_contacts_answers_well_under_100_ms(
    big_app: Starlette, name: str
) -> None:
    plain_ms, found = await _median_ms(big_app, CONDITIONS[name], "identity")
    zipped_ms, _ = await _median_ms(big_app, CONDITIONS[name], "gzip")
    print(f"get_contacts_deleted[{name}]: {found} entries, {plain_ms:.1f} ms plain, {zipped_ms:.1f} ms gzip")

    assert found > 0
    assert plain_ms < 50
    assert zipped_ms < 200  # compressing the 2.5 MB unfiltered answer at level 1 takes ~30-45 ms here
