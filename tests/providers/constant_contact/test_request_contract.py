"""The request side of the Swagger contract: the checker every client test runs, and the emulator's routes.

``make_client`` (conftest) wraps every client's transport in ``CheckingTransport``, so each request of
every Constant Contact client test is checked; these tests show the checker refuses what the file
does not allow (a checker that accepts everything would make those checks worthless) and that the
emulator serves exactly operations of the file, under their official ``operationId``.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from emulators.constant_contact import ConstantContactEmulatorSettings, create_app
from emulators.constant_contact.api import OPERATIONS
from starlette.routing import Route

from gateway.providers.constant_contact.client import restore_body
from gateway.providers.constant_contact.records import Contact

from ...cc_swagger import SWAGGER, operation_for, request_violations
from .test_records import FULL_CONTACT

CONTACT = "1618ae62-4752-11e9-9c8a-fa163e6b01c1"
LIST = "07936f78-662a-11eb-af0a-fa163e56c9b0"


def _request(
    method: str, url: str, body: Any = None, content_type: str = "application/json"
) -> httpx.Request:
    content = None if body is None else orjson.dumps(body)
    headers = {"content-type": content_type} if content is not None else {}
    return httpx.Request(method, f"https://api.cc.email{url}", content=content, headers=headers)


CONFORMING = [
    pytest.param(
        "GET", "/v3/contacts?limit=500&status=deleted,unsubscribed&include_count=true", None, id="list"
    ),
    pytest.param(
        "GET", "/v3/contacts?created_after=2024-01-01T00:00:00Z&email=a%40b.example", None, id="dates"
    ),
    pytest.param("GET", "/v3/contacts?cursor=bGltaXQ9MSZuZXh0PTI%3D&limit=2", None, id="next-page"),
    pytest.param("GET", f"/v3/contacts/{CONTACT}?include=list_memberships,notes", None, id="one"),
    pytest.param("DELETE", f"/v3/contacts/{CONTACT}", None, id="delete"),
    pytest.param(
        "PUT", f"/v3/contacts/{CONTACT}", restore_body(Contact.from_json(FULL_CONTACT), [LIST]), id="restore"
    ),
    pytest.param("POST", "/v3/activities/contact_delete", {"contact_ids": [CONTACT]}, id="bulk-delete"),
    pytest.param(
        "POST",
        "/v3/activities/add_list_memberships",
        {"source": {"contact_ids": [CONTACT]}, "list_ids": [LIST]},
        id="bulk-restore",
    ),
    pytest.param("GET", "/v3/activities/a1b2", None, id="activity"),
    pytest.param("GET", "/v3/contact_lists?limit=500&include_membership_count=all", None, id="lists"),
]


@pytest.mark.parametrize(("method", "url", "body"), CONFORMING)
def test_what_the_client_sends_conforms(method: str, url: str, body: Any) -> None:
    assert request_violations(_request(method, url, body)) == []


BREAKING = [
    pytest.param("GET", "/v2/contacts", None, "not under /v3/", id="old-version"),
    pytest.param("GET", "/v3/contacts/deleted", None, None, id="path-is-an-id-so-allowed"),
    pytest.param("PATCH", f"/v3/contacts/{CONTACT}", {"first_name": "A"}, "no such operation", id="method"),
    pytest.param("GET", "/v3/deleted_contacts", None, "no such operation", id="no-such-path"),
    pytest.param("GET", "/v3/contacts?page=2", None, "page is not a parameter", id="unknown-query"),
    pytest.param("GET", "/v3/contacts?limit=501", None, "above 500", id="limit-high"),
    pytest.param("GET", "/v3/contacts?limit=0", None, "below 1", id="limit-low"),
    pytest.param("GET", "/v3/contacts?limit=ten", None, "not an integer", id="limit-text"),
    pytest.param("GET", "/v3/contacts?status=gone", None, "'gone' is not one of", id="enum"),
    pytest.param("GET", "/v3/contacts?status=deleted&status=all", None, "repeated", id="repeated"),
    pytest.param("GET", "/v3/contacts?include_count=yes", None, "not true or false", id="boolean"),
    pytest.param("GET", "/v3/contacts?created_after=last+tuesday", None, "not a date-time", id="date-time"),
    pytest.param("GET", "/v3/contacts?updated_after=2024-01-01T10:00:00", None, "date-time", id="naive"),
    pytest.param("GET", "/v3/contact_lists?cursor=x&status=gone", None, "'gone' is not", id="lists-enum"),
    pytest.param("DELETE", f"/v3/contacts/{CONTACT}", {"x": 1}, "takes none", id="body-on-delete"),
    pytest.param("PUT", f"/v3/contacts/{CONTACT}", {"first_name": "A"}, "'update_source' is a", id="put"),
    pytest.param("PUT", f"/v3/contacts/{CONTACT}", None, "required body missing", id="put-no-body"),
    pytest.param(
        "PUT", f"/v3/contacts/{CONTACT}", {"update_source": "Account", "deleted_at": "2024-01-01"},
        "Additional properties", id="put-extra",
    ),
    pytest.param(
        "POST", "/v3/activities/contact_delete", {"contact_ids": ["id-1"]}, "is not a 'uuid'", id="ids",
    ),
    pytest.param(
        "POST", "/v3/activities/contact_delete", {"contact_ids": [CONTACT] * 501}, "is too long", id="chunk",
    ),
    pytest.param(
        "POST", "/v3/activities/add_list_memberships", {"contact_ids": [CONTACT], "list_ids": [LIST]},
        "'source' is a required", id="restore-shape",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("method", "url", "body", "complaint"), BREAKING)
def test_what_the_file_does_not_allow_is_named(
    method: str, url: str, body: Any, complaint: str | None
) -> None:
    violations = request_violations(_request(method, url, body))
    if complaint is None:
        assert violations == []
    else:
        assert any(complaint in violation for violation in violations), violations


def test_a_json_body_needs_its_content_type() -> None:
    request = _request("POST", "/v3/activities/contact_delete", {"contact_ids": [CONTACT]}, "text/plain")
    assert request_violations(request) == [
        "POST /v3/activities/contact_delete: body without Content-Type: application/json"
    ]


def test_every_emulator_route_is_an_operation_of_the_file_under_its_official_id() -> None:
    app = create_app(ConstantContactEmulatorSettings(seed=1, contacts=10))
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and route.path.startswith("/v3/")
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert served == {(method, path) for method, path, _ in OPERATIONS}
    for method, path, operation_id in OPERATIONS:
        template = path.removeprefix(SWAGGER["basePath"])
        assert SWAGGER["paths"][template][method.lower()]["operationId"] == operation_id
        assert operation_for(method, template) is not None
