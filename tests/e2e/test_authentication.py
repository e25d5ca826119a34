"""Who may do what, over real HTTP: credentials, scopes, and the emulators' counts as proof that a
refused request reached no provider.

Service keys are issued in the gateway's own database; access tokens are signed by a stand-in OIDC
issuer serving its keys over HTTP (``tests/identity/issuer.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from gateway.app import create_app
from gateway.core.principals import Scope
from gateway.serving import BackgroundServer
from gateway.store import Database, KeyStore

from ..databases import fresh_database_url
from ..identity.issuer import AUDIENCE, Issuer, rsa_key, running_issuer, tampered, unsigned_token
from .conftest import Stack, StackFactory

LIST = "{ deletedContacts(first: 5) { totalCount edges { node { id email provider } } } }"
RAW = """{
  deletedContacts(first: 40) { edges { node { id email raw ... on GetResponseDeletedContact { ip } } } }
  providers { provider }
}"""
DELETE = """mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) { results { index status code } userErrors { code message } } }"""
RESTORE = """mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) { results { index status code } userErrors { code message } } }"""
JSON_ACCEPT = {"accept": "application/graphql-response+json"}


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=JSON_ACCEPT
    )


async def upstream_requests(stack: Stack) -> int:
    counts = await stack.counts()
    return int(counts["cc"]["http_requests"]) + int(counts["gr"]["http_requests"])


async def a_deleted_contact(stack: Stack) -> dict[str, Any]:
    """A deleted GetResponse contact's reference, read with the stack's own full key."""
    body = await stack.graphql(
        "{ deletedContacts(first: 50, filter: {providers: [GETRESPONSE]}) { edges { node { id email } } } }"
    )
    node: dict[str, Any] = body["data"]["deletedContacts"]["edges"][0]["node"]
    return node


def assert_unauthenticated(response: httpx.Response, error: str | None) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer realm=")
    if error is None:
        assert "error=" not in challenge
    else:
        assert f'error="{error}"' in challenge
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# -- no credentials, bad credentials -------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, None),
        ("Basic dXNlcjpwYXNz", "invalid_request"),
        ("Bearer", "invalid_request"),
        ("Token dcg_aaaaaaaaaaaa_secret", "invalid_request"),
        ("Bearer dcg_aaaaaaaaaaaa_not-a-real-secret", "invalid_token"),
        ("Bearer not-a-key-nor-a-token", "invalid_token"),
        ("Bearer " + "x" * 100_000, "invalid_token"),
        ("bearer dcg_", "invalid_token"),
    ],
)
async def test_a_request_without_valid_credentials_is_401_and_reaches_no_provider(
    stack: Stack, authorization: str | None, error: str | None
) -> None:
    await stack.reset_counts()
    headers = {} if authorization is None else {"authorization": authorization}
    async with stack.client() as anonymous:
        for query, variables in (
            (LIST, None),
            (DELETE, {"input": {"contacts": [{"provider": "GETRESPONSE", "email": "a@b.co"}]}}),
        ):
            response = await anonymous.post(
                "/graphql",
                json={"query": query, "variables": variables or {}},
                headers={**JSON_ACCEPT, **headers},
            )
            assert_unauthenticated(response, error)
            assert "x-request-id" in response.headers
    assert await upstream_requests(stack) == 0


async def test_health_readiness_and_graphiql_stay_open(stack: Stack) -> None:
    async with stack.client() as anonymous:
        assert (await anonymous.get("/healthz")).status_code == 200
        assert (await anonymous.get("/readyz")).status_code == 200
        page = await anonymous.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "GraphiQL" in page.text
        assert "gateway-default-headers" not in page.text  # no key pre-filled outside the demo


# -- scopes ------------------------------------------------------------------------------------------


async def test_a_read_key_lists_but_cannot_delete_restore_or_see_raw(stack: Stack) -> None:
    target = await a_deleted_contact(stack)
    read_key = await stack.key(Scope.CONTACTS_READ)
    async with stack.client(read_key) as reader:
        listed = (await post(reader, LIST)).json()
        assert "errors" not in listed
        assert len(listed["data"]["deletedContacts"]["edges"]) == 5

        await stack.reset_counts()
        deleted = await post(reader, DELETE, {"input": {"contacts": [{"id": target["id"]}]}})
        restored = await post(reader, RESTORE, {"input": {"contacts": [{"id": target["id"]}]}})
        assert await upstream_requests(stack) == 0
        for response, field, scope in (
            (deleted, "deleteContacts", "contacts:delete"),
            (restored, "restoreContacts", "contacts:restore"),
        ):
            assert response.status_code == 200
            body = response.json()
            assert body["data"] == {field: None}
            [error] = body["errors"]
            assert error["path"] == [field]
            assert error["extensions"] == {"code": "FORBIDDEN", "scope": scope}
            assert scope in error["message"]

        raw = (await post(reader, RAW)).json()
    edges = raw["data"]["deletedContacts"]["edges"]
    assert edges and all(edge["node"]["raw"] is None and edge["node"]["email"] for edge in edges)
    assert raw["data"]["providers"]  # the rest of the answer still comes back
    forbidden = {
        (tuple(e["path"][-1:]), e["extensions"]["code"], e["extensions"]["scope"]) for e in raw["errors"]
    }
    assert forbidden <= {
        (("raw",), "FORBIDDEN", "contacts:read:raw"),
        (("ip",), "FORBIDDEN", "contacts:read:raw"),
    }
    assert any(e["path"][-1] == "ip" for e in raw["errors"])  # GetResponse contacts were on the page
    assert len(raw["errors"]) == len(edges) + sum(1 for e in raw["errors"] if e["path"][-1] == "ip")


async def test_the_raw_scope_shows_raw_and_ip(stack: Stack) -> None:
    key = await stack.key(Scope.CONTACTS_READ, Scope.CONTACTS_READ_RAW)
    async with stack.client(key) as client:
        body = (await post(client, RAW)).json()
    assert "errors" not in body
    assert all(edge["node"]["raw"] for edge in body["data"]["deletedContacts"]["edges"])


async def test_a_key_without_read_cannot_list(stack: Stack) -> None:
    await stack.reset_counts()
    key = await stack.key(Scope.AUDIT_READ)
    async with stack.client(key) as client:
        body = (
            await post(client, LIST + " { providers { provider } }".replace("{ providers", "")[:0])
        ).json()
    assert body["data"] == {"deletedContacts": None}
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "contacts:read"}
    assert await upstream_requests(stack) == 0


async def test_a_restore_key_cannot_override_consent_without_its_scope(stack: Stack) -> None:
    target = await a_deleted_contact(stack)
    variables = {
        "input": {
            "contacts": [{"id": target["id"]}],
            "consentOverride": {"reason": "customer asked by phone"},
        }
    }
    restorer = await stack.key(Scope.CONTACTS_READ, Scope.CONTACTS_RESTORE)
    await stack.reset_counts()
    async with stack.client(restorer) as client:
        body = (await post(client, RESTORE, variables)).json()
    assert body["data"] == {"restoreContacts": None}
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "consent:override"}
    assert await upstream_requests(stack) == 0

    overrider = await stack.key(Scope.CONTACTS_RESTORE, Scope.CONSENT_OVERRIDE)
    async with stack.client(overrider) as client:
        body = (await post(client, RESTORE, variables)).json()
    assert "errors" not in body
    assert body["data"]["restoreContacts"]["results"][0]["status"] in ("DONE", "PENDING")


async def test_a_delete_key_deletes(stack: Stack) -> None:
    truth = await stack.ground_truth()
    active = next(c for c in truth["cc"]["contacts"].values() if not c.get("deleted_at"))
    key = await stack.key(Scope.CONTACTS_DELETE)
    variables = {"input": {"contacts": [{"provider": "CONSTANT_CONTACT", "contactId": active["contact_id"]}]}}
    async with stack.client(key) as client:
        body = (await post(client, DELETE, variables)).json()
    assert "errors" not in body, body
    assert body["data"]["deleteContacts"]["results"][0]["status"] in ("DONE", "PENDING")


# -- revocation across replicas ------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def second_replica(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """Another gateway on the same database (and emulators), as a second replica would run."""
    with BackgroundServer(create_app(stack.settings)) as replica:
        async with httpx.AsyncClient(base_url=replica.url, timeout=30) as client:
            yield client


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("cache", [True, False], ids=["cached", "uncached"])
async def test_a_key_revoked_through_one_replica_is_refused_at_once_by_the_other(
    make_stack: StackFactory, cache: bool, backend: str, tmp_path: Path
) -> None:
    async with (
        fresh_database_url(backend, tmp_path) as url,
        make_stack(api_key_cache=cache, database_url=SecretStr(url)) as stack,
        second_replica(stack) as other,
    ):
        key = await stack.key(Scope.CONTACTS_READ)
        headers = {"authorization": f"Bearer {key}", **JSON_ACCEPT}
        for client in (stack.gateway, other):  # both replicas know (and, cached, remember) the key
            response = await client.post(
                "/graphql", json={"query": "{ providers { provider } }"}, headers=headers
            )
            assert response.status_code == 200
        database = Database.from_settings(stack.settings)
        try:
            await KeyStore(database).revoke((await KeyStore(database).list())[-1].id)
        finally:
            await database.aclose()
        for client in (other, stack.gateway):
            response = await client.post(
                "/graphql", json={"query": "{ providers { provider } }"}, headers=headers
            )
            assert_unauthenticated(response, "invalid_token")


# -- OIDC access tokens --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def token_stack(make_stack: StackFactory) -> AsyncIterator[tuple[Stack, Issuer]]:
    with running_issuer(rsa_key("k1")) as issuer:
        async with make_stack(auth_issuer=issuer.issuer, auth_audience=AUDIENCE) as stack:
            yield stack, issuer


async def test_a_valid_token_lists_and_its_scopes_bound_it(make_stack: StackFactory) -> None:
    async with token_stack(make_stack) as (stack, issuer), stack.client(issuer.token()) as client:
        listed = (await post(client, LIST)).json()
        assert "errors" not in listed and listed["data"]["deletedContacts"]["edges"]
        await stack.reset_counts()
        variables = {"input": {"contacts": [{"provider": "GETRESPONSE", "email": "a@b.co"}]}}
        refused = (await post(client, DELETE, variables)).json()
        assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "scope": "contacts:delete"}
        assert await upstream_requests(stack) == 0


@pytest.mark.parametrize(
    "case", ["expired", "wrong issuer", "wrong audience", "alg none", "tampered", "unknown key"]
)
async def test_bad_tokens_are_401(make_stack: StackFactory, case: str) -> None:
    import time

    async with token_stack(make_stack) as (stack, issuer):
        now = int(time.time())
        token = {
            "expired": lambda: issuer.token(exp=now - 600),
            "wrong issuer": lambda: issuer.token(iss="https://evil.example"),
            "wrong audience": lambda: issuer.token(aud="someone-else"),
            "alg none": lambda: unsigned_token(
                issuer.claims(scope="contacts:read contacts:delete"), kid="k1"
            ),
            "tampered": lambda: tampered(
                issuer.token(), scope="contacts:read contacts:delete consent:override"
            ),
            "unknown key": lambda: issuer.token(rsa_key("k9")),
        }[case]()
        await stack.reset_counts()
        async with stack.client(token) as client:
            assert_unauthenticated(await post(client, LIST), "invalid_token")
        assert await upstream_requests(stack) == 0


async def test_an_unreachable_issuer_is_503_not_401(make_stack: StackFactory) -> None:
    async with token_stack(make_stack) as (stack, issuer):
        issuer.available = False
        async with stack.client(issuer.token()) as client:
            response = await post(client, LIST)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "AUTHENTICATION_UNAVAILABLE"
    assert "retry-after" in response.headers
