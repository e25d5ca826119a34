"""Property-based, over real HTTP: whatever the filter, the gateway lists exactly the ground truth.

The whole stack runs under uvicorn (both emulators and the gateway, each on its own ephemeral port) and
Hypothesis drives ``deletedContacts`` with filters drawn from values that occur in the data.  The
expected answer comes from ``reference.py``, which reads only the emulators' ground truth.  Every
page is walked, so this also checks that paging neither loses nor repeats a contact, and that the
merged order is most recent deletion first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..servers import ServerPool
from .conftest import live_servers
from .reference import SPECIFIC_REASONS, Expected, ReferenceFilter, deleted_records

QUERY = """
query($filter: DeletedContactFilterInput, $after: String) {
  deletedContacts(filter: $filter, first: 200, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    sources { provider status }
    edges { node { provider contactId deletedOn deletedAt } }
  }
}
"""
GENERAL = (
    "UNSUBSCRIBE",
    "USER",
    "SUPPORT",
    "AUTOMATION",
    "COMPLAINT",
    "BLACKLISTED",
    "API",
    "BOUNCE",
    "OTHER",
)
REASONS = (*GENERAL, *SPECIFIC_REASONS, "UNKNOWN")
OPERATORS = ("EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS")


class LiveGateway:
    def __init__(self, client: httpx.Client, cc_truth: dict[str, Any], gr_truth: dict[str, Any]) -> None:
        self.client = client
        self.gr_truth = gr_truth
        self.records = deleted_records(cc_truth, gr_truth)

    def walk(self, filter_input: dict[str, Any]) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = []
        after = None
        while True:
            response = self.client.post(
                "/graphql", json={"query": QUERY, "variables": {"filter": filter_input, "after": after}}
            )
            assert response.status_code == 200, response.text
            body = response.json()
            assert "errors" not in body, body["errors"]
            connection = body["data"]["deletedContacts"]
            assert all(s["status"] == "OK" for s in connection["sources"])
            nodes += [edge["node"] for edge in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                assert len(nodes) == connection["totalCount"]
                return nodes
            after = connection["pageInfo"]["endCursor"]


@pytest.fixture(scope="module")
def live(emulator_servers: ServerPool) -> Iterator[LiveGateway]:
    # Read-only tests: one gateway and one seeded state for the whole module.
    with (
        live_servers(emulator_servers) as (cc, gr, gateway, key),
        httpx.Client(base_url=gateway.url, timeout=30, headers={"authorization": f"Bearer {key}"}) as client,
    ):
        cc_truth = httpx.get(f"{cc.url}/_emulator/ground-truth").json()
        gr_truth = httpx.get(f"{gr.url}/_emulator/ground-truth").json()
        yield LiveGateway(client, cc_truth, gr_truth)


def _flip_case(text: str, draw: st.DrawFn) -> str:
    """Flip ASCII letters only: other scripts' case rules differ between case-insensitive matchers."""
    return "".join((c.upper() if draw(st.booleans()) else c.lower()) if c.isascii() else c for c in text)


@st.composite
def email_conditions(draw: st.DrawFn, records: list[Expected]) -> tuple[str, str]:
    operator = draw(st.sampled_from(OPERATORS))
    email = draw(st.sampled_from(records)).email
    local, _, domain = email.partition("@")
    if operator in ("EQUALS", "NOT_EQUALS"):
        return operator, _flip_case(email, draw)
    pattern = draw(
        st.sampled_from(
            [
                f"%@{domain}",
                f"%{local[1:4]}%",
                f"{local[:2]}%",
                f"%{domain[-3:]}",
                f"{local[:1]}_{local[2:3]}%",
                "%+%",
                "%",
                email,
            ]
        )
    )
    return operator, _flip_case(pattern, draw)


@st.composite
def name_conditions(draw: st.DrawFn, records: list[Expected]) -> tuple[str, str]:
    operator = draw(st.sampled_from(OPERATORS))
    name = draw(st.sampled_from(records)).name or "x"
    first, _, last = name.partition(" ")
    if operator in ("EQUALS", "NOT_EQUALS"):
        return operator, _flip_case(name, draw)
    pattern = draw(st.sampled_from([f"{first}%", f"%{last}", f"%{name[1:3]}%", f"{name[:1]}_%", "%"]))
    return operator, _flip_case(pattern, draw)


@st.composite
def day_ranges(draw: st.DrawFn, days: list[str]) -> tuple[str | None, str | None]:
    start = draw(st.none() | st.sampled_from(days))
    end = draw(st.none() | st.sampled_from(days))
    if start and end and start > end:
        start, end = end, start
    return start, end


@st.composite
def filters(draw: st.DrawFn, live: LiveGateway) -> ReferenceFilter:
    records = live.records
    deleted_days = sorted({r.deleted_on for r in records})
    created_days = sorted({r.created_day for r in records if r.created_day})
    campaigns = sorted(live.gr_truth["campaigns"])
    campaign_names = [c["name"] for c in live.gr_truth["campaigns"].values()]
    messages = sorted(live.gr_truth["messages"])
    gr_only = draw(st.integers(0, 9)) == 0
    return ReferenceFilter(
        providers=draw(
            st.sampled_from(
                [(), ("CONSTANT_CONTACT",), ("GETRESPONSE",), ("CONSTANT_CONTACT", "GETRESPONSE")]
            )
        ),
        email=tuple(draw(st.lists(email_conditions(records), max_size=2))),
        name=tuple(draw(st.lists(name_conditions(records), max_size=1))),
        reasons=tuple(draw(st.lists(st.sampled_from(REASONS), max_size=3, unique=True))),
        created=draw(day_ranges(created_days)) if draw(st.booleans()) else (None, None),
        deleted=draw(day_ranges(deleted_days)) if draw(st.booleans()) else (None, None),
        campaign_ids=tuple(draw(st.lists(st.sampled_from([*campaigns, "zzzz"]), max_size=2, unique=True)))
        if gr_only
        else (),
        campaign_name=(draw(st.sampled_from(OPERATORS)), f"%{draw(st.sampled_from(campaign_names))[:4]}%")
        if gr_only and draw(st.booleans())
        else None,
        message_ids=tuple(draw(st.lists(st.sampled_from(messages), max_size=3, unique=True)))
        if gr_only and draw(st.booleans())
        else (),
        gr_truth=live.gr_truth,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_filter_lists_exactly_the_ground_truth(live: LiveGateway, data: st.DataObject) -> None:
    query = data.draw(filters(live))
    nodes = live.walk(query.to_input())
    got = [(n["provider"], n["contactId"]) for n in nodes]
    expected = {(r.provider, r.contact_id) for r in live.records if query.matches(r)}
    assert len(got) == len(set(got)), "a contact was listed twice"
    assert set(got) == expected
    days = [n["deletedOn"] for n in nodes]
    assert days == sorted(days, reverse=True)


def test_unfiltered_listing_holds_both_providers(live: LiveGateway) -> None:
    nodes = live.walk({})
    providers = {n["provider"] for n in nodes}
    assert providers == {"CONSTANT_CONTACT", "GETRESPONSE"}
    assert len(nodes) == len(live.records) > 200
