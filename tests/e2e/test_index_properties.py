"""Property: for any filter, after any changes at the providers and a sync, the index answers exactly
what the live path answers, and (unfiltered) exactly the emulators' ground truth.

Hypothesis draws the changes (deletions and revivals at both providers, made through the emulators'
own APIs) and the filters (every condition of ``DeletedContactFilterInput``, with values taken from
the seeded data so that they match something: addresses, name fragments, wildcards and escapes,
reasons and sub-reasons, day ranges, campaigns and messages).  Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from gateway.app import create_app
from gateway.config import Settings
from gateway.serving import BackgroundServer

from ..databases import fresh_database_url
from ..servers import ServerPool
from .conftest import ALL_SCOPES, CC_TOKEN, GR_KEY, gateway_settings, issue_test_key, seeded_emulators
from .index_support import sync_once

REASONS = [
    "UNSUBSCRIBE",
    "USER",
    "SUPPORT",
    "AUTOMATION",
    "AUTOMATION_REMOVE_ON_REMOVE",
    "AUTOMATION_REMOVE_ON_SALE",
    "AUTOMATION_REMOVE_ON_SUBSCRIBE",
    "COMPLAINT",
    "BLACKLISTED",
    "API",
    "BOUNCE",
    "BOUNCE_MAILBOX_FULL",
    "BOUNCE_OTHER_HARD",
    "BOUNCE_OTHER_SOFT",
    "BOUNCE_USER_UNKNOWN",
    "BOUNCE_USER_RECYCLED",
    "OTHER",
    "UNKNOWN",
]
OPERATORS = ["EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS"]
QUERY = """query($filter: DeletedContactFilterInput, $after: String, $consistency: Consistency) {
  deletedContacts(first: 500, after: $after, filter: $filter, consistency: $consistency) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } }"""


@dataclass
class Environment:
    settings: Settings
    gateway: httpx.Client
    cc: httpx.Client
    gr: httpx.Client

    def ids(self, consistency: str, filter: dict[str, Any] | None) -> list[str]:
        found: list[str] = []
        after = None
        while True:
            response = self.gateway.post(
                "/graphql",
                json={
                    "query": QUERY,
                    "variables": {"filter": filter, "after": after, "consistency": consistency},
                },
            )
            body = response.json()
            assert "errors" not in body, (filter, body)
            connection = body["data"]["deletedContacts"]
            found += [edge["node"]["id"] for edge in connection["edges"]]
            if not connection["pageInfo"]["hasNextPage"]:
                return found
            after = connection["pageInfo"]["endCursor"]

    def reset(self) -> None:
        for emulator in (self.cc, self.gr):
            response = emulator.post("/_emulator/reset")
            assert response.status_code == 200, response.text

    def truth(self) -> dict[str, Any]:
        return {
            "cc": self.cc.get("/_emulator/ground-truth").json(),
            "gr": self.gr.get("/_emulator/ground-truth").json(),
        }

    def rpc(self, method: str, params: dict[str, Any]) -> Any:
        body = self.gr.post(
            "/", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": [GR_KEY, params]}
        ).json()
        assert body.get("error") is None, body
        return body["result"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def environment(
    request: pytest.FixtureRequest, emulator_servers: ServerPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Environment]:
    runner = asyncio.Runner()
    database = fresh_database_url(request.param, Path(tmp_path_factory.mktemp("index-properties")))
    url = runner.run(database.__aenter__())
    try:
        cc, gr = seeded_emulators(emulator_servers)
        settings = gateway_settings(
            cc.url, f"{gr.url}/", index=True, sync_in_process=False, database_url=SecretStr(url)
        )
        with BackgroundServer(create_app(settings)) as gateway, contextlib.ExitStack() as clients:
            key = runner.run(issue_test_key(settings, ALL_SCOPES))
            headers = {"authorization": f"Bearer {key}"}
            environment = Environment(
                settings,
                clients.enter_context(httpx.Client(base_url=gateway.url, headers=headers, timeout=60)),
                clients.enter_context(httpx.Client(base_url=cc.url, timeout=60)),
                clients.enter_context(httpx.Client(base_url=gr.url, timeout=60)),
            )
            runner.run(sync_once(settings))
            yield environment
    finally:
        runner.run(database.__aexit__(None, None, None))
        runner.close()


def _change(environment: Environment, data: st.DataObject) -> None:
    """One change at one provider, through its own API."""
    truth = environment.truth()
    kind = data.draw(st.sampled_from(["cc_delete", "cc_revive", "gr_delete", "gr_revive"]))
    cc_auth = {"authorization": f"Bearer {CC_TOKEN}"}
    contacts = list(truth["cc"]["contacts"].values())
    if kind == "cc_delete":
        active = [c for c in contacts if c["status"] != "deleted"]
        contact = data.draw(st.sampled_from(active))
        assert (
            environment.cc.delete(f"/v3/contacts/{contact['contact_id']}", headers=cc_auth).status_code == 204
        )
    elif kind == "cc_revive":
        deleted = [c for c in contacts if c["status"] == "deleted"]
        contact = data.draw(st.sampled_from(deleted))
        body = {
            "email_address": {"address": contact["email_address"]["address"]},
            "update_source": "Account",
            "list_memberships": [next(iter(truth["cc"]["lists"]))],
        }
        response = environment.cc.put(f"/v3/contacts/{contact['contact_id']}", json=body, headers=cc_auth)
        assert response.status_code == 200, response.text
    elif kind == "gr_delete":
        contact_id = data.draw(st.sampled_from(sorted(truth["gr"]["contacts"])))
        environment.rpc("delete_contact", {"contact": contact_id})
    else:
        active = {(c["email"].lower(), c["campaign"]) for c in truth["gr"]["contacts"].values()}
        queued = {(q["email"].lower(), q["campaign"]) for q in truth["gr"]["queued"]}
        gone = [
            d for d in truth["gr"]["deleted"] if (d["email"].lower(), d["campaign"]) not in active | queued
        ]
        deletion = data.draw(st.sampled_from(gone))
        environment.rpc("add_contact", {"campaign": deletion["campaign"], "email": deletion["email"]})
        assert environment.gr.post("/_emulator/clock", json={"advance_seconds": 31}).status_code == 200


def _fragment(text: str, data: st.DataObject) -> str:
    start = data.draw(st.integers(0, max(0, len(text) - 1)))
    end = data.draw(st.integers(start, len(text)))
    return text[start:end]


def _text_condition(values: list[str], data: st.DataObject) -> dict[str, str]:
    operator = data.draw(st.sampled_from(OPERATORS))
    value = data.draw(st.sampled_from(values))
    if operator in ("CONTAINS", "NOT_CONTAINS"):
        shape = data.draw(st.sampled_from(["substring", "prefix", "suffix", "underscore", "whole", "escape"]))
        part = _fragment(value, data)
        if shape == "substring":
            value = f"%{part}%"
        elif shape == "prefix":
            value = f"{value[: len(part)]}%"
        elif shape == "suffix":
            value = f"%{value[len(value) - len(part) :]}"
        elif shape == "underscore" and value:
            at = data.draw(st.integers(0, len(value) - 1))
            value = f"{value[:at]}_{value[at + 1 :]}"
        elif shape == "escape":
            value = f"%{part}\\%"
    if data.draw(st.booleans()):
        value = value.swapcase()
    return {"operator": operator, "value": value}


def _day_range(days: list[str], data: st.DataObject) -> dict[str, str]:
    first, second = sorted(data.draw(st.lists(st.sampled_from(days), min_size=2, max_size=2)))
    shape = data.draw(st.sampled_from(["range", "from", "to", "on"]))
    return {
        "range": {"from": first, "to": second},
        "from": {"from": first},
        "to": {"to": second},
        "on": {"on": first},
    }[shape]


def _filter(truth: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    cc_deleted = [c for c in truth["cc"]["contacts"].values() if c["status"] == "deleted"]
    gr_deleted = truth["gr"]["deleted"]
    emails = [c["email_address"]["address"] for c in cc_deleted] + [d["email"] for d in gr_deleted]
    names = [d["name"] for d in gr_deleted if d["name"]] + [
        f"{c.get('first_name') or ''} {c.get('last_name') or ''}".strip() for c in cc_deleted
    ]
    days = sorted({d["deleted_on"][:10] for d in gr_deleted} | {c["deleted_at"][:10] for c in cc_deleted})
    created = sorted({d["created_on"][:10] for d in gr_deleted})
    campaigns = truth["gr"]["campaigns"]
    messages = truth["gr"]["messages"]
    chosen: dict[str, Any] = {}
    for condition in data.draw(
        st.sets(
            st.sampled_from(
                [
                    "providers",
                    "email",
                    "name",
                    "reasons",
                    "createdOn",
                    "deletedOn",
                    "campaignIds",
                    "campaignName",
                    "messageIds",
                    "messageName",
                ]
            ),
            max_size=3,
        )
    ):
        if condition == "providers":
            chosen["providers"] = data.draw(
                st.sets(st.sampled_from(["CONSTANT_CONTACT", "GETRESPONSE"]), min_size=1)
            )
        elif condition == "email":
            chosen["email"] = [_text_condition(emails, data) for _ in range(data.draw(st.integers(1, 2)))]
        elif condition == "name":
            chosen["name"] = [_text_condition(names, data)]
        elif condition == "reasons":
            chosen["reasons"] = data.draw(st.sets(st.sampled_from(REASONS), min_size=1, max_size=3))
        elif condition == "deletedOn":
            chosen["deletedOn"] = _day_range(days, data)
        elif condition == "createdOn":
            chosen["createdOn"] = _day_range(created, data)
        elif condition == "campaignIds":
            chosen["campaignIds"] = data.draw(
                st.sets(st.sampled_from(sorted(campaigns)), min_size=1, max_size=2)
            )
        elif condition == "campaignName":
            chosen["campaignName"] = _text_condition([c["name"] for c in campaigns.values()], data)
        elif condition == "messageIds":
            chosen["messageIds"] = data.draw(
                st.sets(st.sampled_from(sorted(messages)), min_size=1, max_size=2)
            )
        else:
            named = [m["name"] for m in messages.values() if m.get("name")]
            chosen["messageName"] = _text_condition(named, data)
    return {key: sorted(value) if isinstance(value, set) else value for key, value in chosen.items()}


def _truth_ids(truth: dict[str, Any]) -> set[str]:
    """The global ids of every deleted contact the emulators hold (GetResponse: not superseded)."""
    import base64

    def global_id(type_name: str, contact_id: str) -> str:
        return base64.urlsafe_b64encode(f"{type_name}:{contact_id}".encode()).decode().rstrip("=")

    active = {(c["email"].lower(), c["campaign"]) for c in truth["gr"]["contacts"].values()}
    # GetResponse lists the newest deletion of each address in each campaign (the history is in the
    # order it was recorded: a later one of the same moment wins).
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for deletion in truth["gr"]["deleted"]:
        pair = (deletion["email"].lower(), deletion["campaign"])
        if pair not in newest or deletion["deleted_on"] >= newest[pair]["deleted_on"]:
            newest[pair] = deletion
    return {
        global_id("ConstantContactDeletedContact", c["contact_id"])
        for c in truth["cc"]["contacts"].values()
        if c["status"] == "deleted"
    } | {
        global_id("GetResponseDeletedContact", d["contact_id"])
        for pair, d in newest.items()
        if pair not in active
    }


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_index_answers_what_the_providers_answer(environment: Environment, data: st.DataObject) -> None:
    # Every example starts from the seeded accounts and an index that matches them (a reconcile
    # repairs what the reset undid), so that the values drawn depend on the draws alone; the changes
    # are then read by a delta, as they would be in production.
    environment.reset()
    asyncio.run(sync_once(environment.settings.model_copy(update={"sync_reconcile_seconds": 1e-6})))
    for _ in range(data.draw(st.integers(0, 3))):
        _change(environment, data)
    reports = asyncio.run(sync_once(environment.settings))
    assert {report.kind.value for report in reports} == {"delta"}
    truth = environment.truth()
    everything = environment.ids("INDEXED", None)
    assert len(everything) == len(set(everything))
    assert set(everything) == _truth_ids(truth)
    assert everything == environment.ids("LIVE", None)
    for _ in range(data.draw(st.integers(1, 3))):
        filter = _filter(truth, data)
        assert environment.ids("INDEXED", filter) == environment.ids("LIVE", filter), filter
