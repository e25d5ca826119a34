"""GraphQL over HTTP at /graphql: media types, status codes, refusals, request ids, masking.

Every test runs in process and over real HTTP (the ``http`` fixture).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from gateway.core.model import Provider
from gateway.http import GraphQLEndpoint
from tests.bodies import without_cost

from .conftest import GRAPHQL_RESPONSE, JSON, SETTINGS, Edge, edge_schema

QUERY = "{ deletedContacts(first: 3) { totalCount edges { node { email provider } } } }"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def content_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


def error_codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


async def post(
    http: httpx.AsyncClient, payload: Any, accept: str | None = GRAPHQL_RESPONSE, **headers: str
) -> httpx.Response:
    if accept is not None:
        headers["accept"] = accept
    return await http.post("/graphql", json=payload, headers=headers)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (JSON, JSON),
        (None, JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};charset=utf-8", GRAPHQL_RESPONSE),
        ("text/html, */*;q=0.1", JSON),
    ],
)
async def test_post_answers_in_the_negotiated_media_type(
    http: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    response = await post(http, {"query": QUERY}, accept)
    assert response.status_code == 200
    assert content_type(response) == expected
    assert "charset=utf-8" in response.headers["content-type"]
    connection = response.json()["data"]["deletedContacts"]
    assert connection["totalCount"] == 20 and len(connection["edges"]) == 3
    assert response.headers["cache-control"] == "no-store"
    assert "accept" in response.headers["vary"].lower()


REQUEST_ERRORS = [
    pytest.param({"query": "{ deletedContacts("}, "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED", id="validation"),
    pytest.param(
        {
            "query": "query Q($n: Int!) { deletedContacts(first: $n) { totalCount } }",
            "variables": {"n": "ten"},
        },
        "BAD_USER_INPUT",
        id="variable-coercion",
    ),
    pytest.param(
        {"query": "query Q($id: ID!) { __typename }", "variables": {"id": None}},
        "BAD_USER_INPUT",
        id="null-for-non-null-variable",
    ),
    pytest.param(
        {"query": "query A { __typename } query B { __typename }", "operationName": "C"},
        "OPERATION_RESOLUTION_FAILURE",
        id="unknown-operation",
    ),
    pytest.param(
        # Subscriptions are served over graphql-transport-ws and SSE (gateway.http.subscriptions).
        {"query": "subscription { contactEvents { position } }"},
        "OPERATION_NOT_SUPPORTED",
        id="subscription",
    ),
]


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_request_errors_are_400_without_data_in_graphql_response_json(
    http: httpx.AsyncClient, payload: dict[str, Any], code: str
) -> None:
    response = await post(http, payload, GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert content_type(response) == GRAPHQL_RESPONSE
    assert "data" not in response.json()
    assert error_codes(response) == [code]


@pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
async def test_request_errors_are_200_without_data_in_legacy_json(
    http: httpx.AsyncClient, payload: dict[str, Any], code: str
) -> None:
    response = await post(http, payload, JSON)
    assert response.status_code == 200
    assert content_type(response) == JSON
    assert "data" not in response.json()
    assert error_codes(response) == [code]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_field_errors_keep_data_and_status_200(http: httpx.AsyncClient, accept: str) -> None:
    response = await post(http, {"query": '{ deletedContact(id: "bogus") { email } }'}, accept)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"deletedContact": None}
    assert error_codes(response) == ["INVALID_ID"]
    assert body["errors"][0]["path"] == ["deletedContact"]


async def test_unexpected_resolver_errors_are_masked_with_the_request_id(
    http: httpx.AsyncClient, edge: Edge
) -> None:
    for port in edge.ports.values():
        port.crash = ValueError("password=hunter2")
    response = await post(http, {"query": QUERY}, GRAPHQL_RESPONSE, **{"x-request-id": "trace-42"})
    assert response.status_code == 200  # data is present: an executed operation
    body = response.json()
    assert body["data"] == {"deletedContacts": None}
    assert body["errors"][0]["message"] == "Unexpected error."
    request_id = response.headers["x-request-id"]
    assert GENERATED_ID.fullmatch(request_id)  # the gateway's own id, never the caller's
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "hunter2" not in response.text


@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE, 500), (JSON, 200)])
async def test_a_crash_outside_graphql_is_a_masked_error_never_a_traceback(
    http: httpx.AsyncClient, edge: Edge, caplog: pytest.LogCaptureFixture, accept: str, status: int
) -> None:
    edge.crash_context = True
    with caplog.at_level(logging.ERROR, logger="gateway.http"):
        response = await post(http, {"query": QUERY}, accept)
    assert response.status_code == status
    assert content_type(response) == accept
    request_id = response.headers["x-request-id"]
    assert response.json() == {
        "errors": [
            {
                "message": "Unexpected error.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            }
        ]
    }
    assert "secret-token" not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "gateway.http" and request_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_mutations_run_over_post(http: httpx.AsyncClient) -> None:
    response = await post(http, {"query": "mutation { __typename }"})
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"__typename": "Mutation"}}


# --- GET ------------------------------------------------------------------------------------------


async def test_get_runs_queries_with_json_encoded_variables(http: httpx.AsyncClient) -> None:
    params = {
        "query": "query Q($first: Int) { deletedContacts(first: $first) { totalCount edges { cursor } } }",
        "variables": '{"first": 2}',
        "operationName": "Q",
        "extensions": "{}",
    }
    response = await http.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert content_type(response) == GRAPHQL_RESPONSE
    assert len(response.json()["data"]["deletedContacts"]["edges"]) == 2


async def test_get_without_accept_answers_json(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 200
    assert content_type(response) == JSON
    assert without_cost(response.json()) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
@pytest.mark.parametrize(
    "params",
    [
        {"query": "mutation { deleteContacts(input: {contacts: []}) { results { status } } }"},
        {"query": "query A { __typename } mutation B { __typename }", "operationName": "B"},
        {"query": "mutation B { __typename } query A { __typename }"},  # Strawberry runs the first one
    ],
)
async def test_get_refuses_mutations_with_405_and_allow_post(
    http: httpx.AsyncClient, edge: Edge, params: dict[str, str], accept: str
) -> None:
    response = await http.get("/graphql", params=params, headers={"accept": accept})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert content_type(response) == accept
    assert error_codes(response) == ["METHOD_NOT_ALLOWED"]
    assert all(port.calls == [] for port in edge.ports.values())


async def test_get_may_pick_the_query_of_a_document_with_a_mutation(http: httpx.AsyncClient) -> None:
    params = {"query": "query A { __typename } mutation B { __typename }", "operationName": "A"}
    response = await http.get("/graphql", params=params)
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({}, id="no-query"),
        pytest.param({"query": ""}, id="empty-query"),
        pytest.param({"query": "{ __typename }", "variables": "{not json"}, id="variables-not-json"),
        pytest.param({"query": "{ __typename }", "variables": "[1]"}, id="variables-not-object"),
        pytest.param({"query": "{ __typename }", "extensions": '"x"'}, id="extensions-not-object"),
    ],
)
async def test_get_with_bad_parameters_is_400(http: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await http.get("/graphql", params=params, headers={"accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert error_codes(response) == ["BAD_REQUEST"]


async def test_head_is_a_get_without_body(http: httpx.AsyncClient) -> None:
    response = await http.head("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 200
    assert content_type(response) == JSON
    assert response.content == b""


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept",
    ["text/plain", "application/xml", "application/json;q=0", "application/json;charset=latin1", "image/*"],
)
async def test_unacceptable_accept_is_406(http: httpx.AsyncClient, accept: str) -> None:
    response = await post(http, {"query": QUERY}, accept)
    assert response.status_code == 406
    assert content_type(response) == JSON
    assert error_codes(response) == ["NOT_ACCEPTABLE"]


@pytest.mark.parametrize(
    "media_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql",
        "application/json; charset=latin-1",
        "application/jsonx",
    ],
)
async def test_post_bodies_other_than_json_are_415(http: httpx.AsyncClient, media_type: str | None) -> None:
    headers = {"accept": GRAPHQL_RESPONSE}
    if media_type is not None:
        headers["content-type"] = media_type
    response = await http.post("/graphql", content=b'{"query": "{ __typename }"}', headers=headers)
    assert response.status_code == 415
    assert content_type(response) == GRAPHQL_RESPONSE
    assert error_codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


@pytest.mark.parametrize(
    "media_type", ["application/json", "application/json; charset=utf-8", 'Application/JSON; Charset="UTF-8"']
)
async def test_json_bodies_with_utf8_are_read(http: httpx.AsyncClient, media_type: str) -> None:
    body = '{"query": "{ __type(name: \\"Run🏃Swim🏊\\") { name } }"}'.encode()
    response = await http.post("/graphql", content=body, headers={"content-type": media_type})
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"__type": None}}


async def test_bodies_over_the_limit_are_413(http: httpx.AsyncClient) -> None:
    padding = "x" * (SETTINGS.max_body_bytes - 60)  # the default limit: one mebibyte
    fits = orjson.dumps({"query": "{ __typename }", "padding": padding})
    assert len(fits) <= SETTINGS.max_body_bytes
    assert (await http.post("/graphql", content=fits, headers={"content-type": JSON})).status_code == 200

    too_big = orjson.dumps({"query": "{ __typename }", "padding": padding + "x" * 100})
    response = await http.post("/graphql", content=too_big, headers={"content-type": JSON})
    assert response.status_code == 413
    assert error_codes(response) == ["PAYLOAD_TOO_LARGE"]


async def test_a_streamed_body_is_cut_off_at_the_limit(http: httpx.AsyncClient) -> None:
    async def chunks():  # no Content-Length: the limit is enforced while reading
        yield b'{"query": "{ __typename }", "padding": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    response = await http.post("/graphql", content=chunks(), headers={"content-type": JSON})
    assert response.status_code == 413
    assert error_codes(response) == ["PAYLOAD_TOO_LARGE"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b'{ "not a JSON', id="malformed"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b'[{"query": "{ __typename }"}]', id="array"),
        pytest.param(b'"{ __typename }"', id="string"),
        pytest.param(b'{"qeury": "{ __typename }"}', id="missing-query"),
        pytest.param(b'{"query": null}', id="null-query"),
        pytest.param(b'{"query": {"obj": "ect"}}', id="object-query"),
        pytest.param(b'{"query": 0}', id="number-query"),
        pytest.param(b'{"query": "{ __typename }", "variables": "{}"}', id="string-variables"),
        pytest.param(b'{"query": "{ __typename }", "variables": ["array"]}', id="array-variables"),
        pytest.param(b'{"query": "{ __typename }", "operationName": false}', id="boolean-operation-name"),
        pytest.param(b'{"query": "{ __typename }", "extensions": 0}', id="number-extensions"),
    ],
)
@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON])
async def test_malformed_requests_are_400_with_a_graphql_shaped_error(
    http: httpx.AsyncClient, body: bytes, accept: str
) -> None:
    response = await http.post("/graphql", content=body, headers={"content-type": JSON, "accept": accept})
    assert response.status_code == 400
    assert content_type(response) == accept
    assert error_codes(response) == ["BAD_REQUEST"]
    assert response.json()["errors"][0]["message"]


async def test_null_optional_parameters_are_allowed(http: httpx.AsyncClient) -> None:
    payload = {"query": "{ __typename }", "variables": None, "operationName": None, "extensions": None}
    response = await post(http, payload)
    assert response.status_code == 200
    assert without_cost(response.json()) == {"data": {"__typename": "Query"}}


async def test_other_methods_are_405(http: httpx.AsyncClient) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = await http.request(method, "/graphql", json={"query": QUERY})
        assert response.status_code == 405
        assert "POST" in response.headers["allow"]


async def test_the_endpoint_itself_answers_other_methods_with_a_graphql_error() -> None:
    # Mounted without a method list, the endpoint gives its own GraphQL-shaped 405.
    async def never(request: Any, request_id: str) -> None:
        raise AssertionError("no context for a refused request")

    app = Starlette(
        routes=[Route("/graphql", GraphQLEndpoint(edge_schema(), context_getter=never, max_body_bytes=100))]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://gateway") as client:
        response = await client.delete("/graphql")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert error_codes(response) == ["METHOD_NOT_ALLOWED"]


# --- request ids ----------------------------------------------------------------------------------


async def test_a_sane_incoming_request_id_is_kept_as_the_correlation_id(
    http: httpx.AsyncClient, edge: Edge
) -> None:
    response = await post(http, {"query": "{ __typename }"}, **{"x-request-id": "abc-123.DEF:4/5"})
    generated = response.headers["x-request-id"]
    assert GENERATED_ID.fullmatch(generated)
    assert response.headers["x-correlation-id"] == "abc-123.DEF:4/5"
    assert edge.request_ids == [generated]
    assert edge.correlation_ids == ["abc-123.DEF:4/5"]


@pytest.mark.parametrize("incoming", [None, "", "has spaces", "x" * 129, "-leading-dash", "a\tb", "<script>"])
async def test_a_missing_or_odd_request_id_is_not_kept(
    http: httpx.AsyncClient, edge: Edge, incoming: str | None
) -> None:
    headers = {} if incoming is None else {"x-request-id": incoming}
    response = await post(http, {"query": "{ __typename }"}, **headers)
    generated = response.headers["x-request-id"]
    assert GENERATED_ID.fullmatch(generated)
    assert "x-correlation-id" not in response.headers
    assert edge.request_ids == [generated]
    assert edge.correlation_ids == [None]


async def test_every_refusal_carries_a_request_id(http: httpx.AsyncClient) -> None:
    responses = [
        await post(http, {"query": QUERY}, "text/plain"),
        await http.post("/graphql", content=b"x", headers={"content-type": "text/plain"}),
        await http.post("/graphql", content=b"{", headers={"content-type": JSON}),
        await http.get("/graphql", params={"query": "mutation { __typename }"}),
    ]
    assert [r.status_code for r in responses] == [406, 415, 400, 405]
    ids = {r.headers["x-request-id"] for r in responses}
    assert len(ids) == 4 and all(GENERATED_ID.fullmatch(i) for i in ids)


async def test_a_provider_failure_is_typed_and_200(http: httpx.AsyncClient, edge: Edge) -> None:
    from gateway.providers.errors import ProviderTimeout

    edge.ports[Provider.GETRESPONSE].failure = ProviderTimeout("timed out", provider=Provider.GETRESPONSE)
    response = await post(http, {"query": "{ deletedContacts { totalCount sources { provider status } } }"})
    assert response.status_code == 200
    statuses = {s["provider"]: s["status"] for s in response.json()["data"]["deletedContacts"]["sources"]}
    assert statuses["CONSTANT_CONTACT"] == "OK" and statuses["GETRESPONSE"] != "OK"
