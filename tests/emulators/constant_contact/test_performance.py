"""The 10,000-deleted-contacts account: its size, and what the benchmarked ``GET /v3/contacts`` reads return.

How fast these answers come is measured by ``python -m bench.emulator_speed`` (``make
bench-emulators``), not here: a timing bound fails on a busy machine without anything being wrong.
"""

from __future__ import annotations

import httpx
import orjson
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app
from starlette.applications import Starlette

from bench.emulator_speed import CC_PAGES

from .conftest import AUTH

BIG_ACCOUNT = ConstantContactEmulatorSettings(
    seed=42, contacts=30_000, deleted_fraction=0.34, requests_per_second=1e6, daily_quota=10**9
)


@pytest.fixture(scope="module")
def big_app() -> Starlette:
    return create_app(BIG_ACCOUNT)


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://cc.emulator")


async def test_the_big_account_has_more_than_10000_deleted_contacts(big_app: Starlette) -> None:
    truth = big_app.state.store.ground_truth()

    assert sum(1 for c in truth["contacts"].values() if c["status"] == "deleted") == 10_200


@pytest.mark.parametrize("name", CC_PAGES)
async def test_each_benchmarked_page_holds_500_contacts(big_app: Starlette, name: str) -> None:
    async with _client(big_app) as client:
        response = await client.get("/v3/contacts", params=CC_PAGES[name], headers=AUTH)

    assert response.status_code == 200, response.text
    assert len(orjson.loads(response.content)["contacts"]) == 500


async def test_listing_every_deleted_contact_takes_21_pages_and_repeats_exactly(big_app: Starlette) -> None:
    async def listing(client: httpx.AsyncClient) -> list[str]:
        ids: list[str] = []
        url: str | None = "/v3/contacts?status=deleted&limit=500&include_count=true"
        pages = 0
        while url:
            response = await client.get(url, headers=AUTH)
            assert response.status_code == 200, response.text
            body = orjson.loads(response.content)
            ids += [contact["contact_id"] for contact in body["contacts"]]
            pages += 1
            url = body.get("_links", {}).get("next", {}).get("href")
        assert pages == 21
        return ids

    async with _client(big_app) as client:
        first = await listing(client)
        second = await listing(client)  # served from the page caches the first listing filled

    assert len(first) == len(set(first)) == 10_200
    assert second == first
