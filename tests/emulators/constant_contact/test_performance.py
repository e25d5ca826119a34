"""The 10,000-deleted-contacts account: size, and the speed of ``GET /v3/contacts`` in process.

Timings go through ``httpx.ASGITransport`` (the whole path: auth, limits, query parsing, paging,
serialisation) and stop when the body has arrived; parsing it is the client's business and is left
out.  A single 500-contact page is the median of 7 requests; "listing" is every page of the 10,200
deleted contacts (21 requests of up to 500, following ``_links.next.href``), median of 5 listings.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx
import orjson
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app
from starlette.applications import Starlette

from .conftest import AUTH

BIG_ACCOUNT = ConstantContactEmulatorSettings(
    seed=42, contacts=30_000, deleted_fraction=0.34, requests_per_second=1e6, daily_quota=10**9
)
PAGES = {
    "live": {"limit": 500},
    "deleted": {"status": "deleted", "limit": 500, "include_count": "true"},
    "all+include": {"status": "all", "limit": 500, "include": "list_memberships,phone_numbers"},
    "deleted+updated_after": {
        "status": "deleted",
        "limit": 500,
        "include_count": "true",
        "updated_after": "2022-01-01",
    },
}


@pytest.fixture(scope="module")
def big_app() -> Starlette:
    return create_app(BIG_ACCOUNT)


async def _timed_get(client: httpx.AsyncClient, url: str, params: Any = None) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.get(url, params=params, headers=AUTH)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.text
    return elapsed, response


async def _list_deleted(client: httpx.AsyncClient) -> tuple[float, int, int]:
    """Milliseconds spent waiting for answers, contacts listed, pages."""
    waited, listed, pages = 0.0, 0, 0
    url: str | None = "/v3/contacts?status=deleted&limit=500&include_count=true"
    while url:
        elapsed, response = await _timed_get(client, url)
        body = orjson.loads(response.content)
        waited += elapsed
        listed += len(body["contacts"])
        pages += 1
        url = body.get("_links", {}).get("next", {}).get("href")
    return waited, listed, pages


async def test_the_big_account_has_more_than_10000_deleted_contacts(big_app: Starlette) -> None:
    truth = big_app.state.store.ground_truth()

    assert sum(1 for c in truth["contacts"].values() if c["status"] == "deleted") == 10_200


@pytest.mark.parametrize("name", PAGES)
async def test_a_500_contact_page_answers_well_under_100_ms(big_app: Starlette, name: str) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(big_app), base_url="http://cc.emulator"
    ) as client:
        timings = []
        for _ in range(7):
            elapsed, response = await _timed_get(client, "/v3/contacts", PAGES[name])
            timings.append(elapsed)
    median = statistics.median(timings)
    print(f"GET /v3/contacts[{name}]: 500 contacts, {len(response.content)} bytes, {median:.1f} ms")

    assert len(orjson.loads(response.content)["contacts"]) == 500
    assert median < 25


async def test_listing_10000_deleted_contacts_answers_well_under_100_ms(big_app: Starlette) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(big_app), base_url="http://cc.emulator"
    ) as client:
        await _list_deleted(client)  # warm up: the first listing fills the JSON caches of the page bodies
        runs = [await _list_deleted(client) for _ in range(5)]
    median = statistics.median(waited for waited, _, _ in runs)
    print(f"listing every deleted contact: {runs[0][1]} contacts in {runs[0][2]} pages, {median:.1f} ms")

    assert {(listed, pages) for _, listed, pages in runs} == {(10_200, 21)}
    assert median < 75
