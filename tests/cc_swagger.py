"""Constant Contact's official Swagger file as a strict checker of answers *and* requests.

The Swagger 2.0 ``definitions`` are used as JSON Schema (draft 7) as they are, with ``$ref`` resolved
inside them, made *stricter* in two ways so that neither the emulator nor the client can drift from the
contract unnoticed: every object that lists its ``properties`` refuses any other property, and
``format`` is checked (``date-time`` with a timezone, ``date`` as a bare day, ``uuid``).

:func:`request_violations` checks one outgoing request against ``paths``: the method and path must be
an operation of the file, every query parameter one it declares (right type, enum, bounds, format,
``csv`` lists item by item), required ones present, and the JSON body valid against the operation's
body definition (or absent when it has none).  The one parameter allowed beyond the file is ``cursor``
on collection GETs: CC's paging hands it out in ``_links.next.href`` and the file does not declare it.

:class:`CheckingTransport` wraps any transport and records the violations of every request through it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jsonschema
import orjson
import yaml

__all__ = [
    "DEFINITIONS",
    "SWAGGER",
    "CheckingTransport",
    "assert_valid",
    "operation_for",
    "request_violations",
    "validator",
]

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SWAGGER: dict[str, Any] = yaml.safe_load((FIXTURES / "constant-contact-v3-swagger.yaml").read_text())
BASE_PATH = SWAGGER["basePath"]  # "/v3"
PAGING_PARAMETER = "cursor"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or ("T" in value and datetime.fromisoformat(value).tzinfo is not None)


@FORMATS.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    return not isinstance(value, str) or (len(value) == 10 and bool(date.fromisoformat(value)))


@FORMATS.checks("uuid")
def _uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.fullmatch(value))


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


DEFINITIONS = _strict(copy.deepcopy(SWAGGER["definitions"]))


def validator(definition: str) -> jsonschema.Draft7Validator:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": DEFINITIONS}
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


def _schema_errors(schema: dict[str, Any], body: Any) -> list[str]:
    checker = jsonschema.Draft7Validator({**schema, "definitions": DEFINITIONS}, format_checker=FORMATS)
    errors = sorted(checker.iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def assert_valid(definition: str, body: Any) -> None:
    errors = _schema_errors({"$ref": f"#/definitions/{definition}"}, body)
    assert not errors, "\n".join(errors[:10])


# -- requests --------------------------------------------------------------------------------------------


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


# Literal paths first, so /activities/contact_delete is never read as /activities/{activity_id}.
_PATHS = sorted(SWAGGER["paths"], key=lambda p: (p.count("{"), p))
_TEMPLATES = [(path, _template(path)) for path in _PATHS]


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The Swagger path template and operation a request's method and (base-relative) path match."""
    for template, pattern in _TEMPLATES:
        operation = SWAGGER["paths"][template].get(method.lower())
        if operation is not None and pattern.match(path):
            return template, operation
    return None


def _query_value_errors(parameter: dict[str, Any], value: str) -> list[str]:
    name, kind = parameter["name"], parameter.get("type", "string")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            return [f"query {name}={value!r} is not an integer"]
        number = int(value)
        if "minimum" in parameter and number < parameter["minimum"]:
            return [f"query {name}={number} is below {parameter['minimum']}"]
        if "maximum" in parameter and number > parameter["maximum"]:
            return [f"query {name}={number} is above {parameter['maximum']}"]
        return []
    if kind == "boolean":
        return [] if value in ("true", "false") else [f"query {name}={value!r} is not true or false"]
    # The file marks comma-separated lists with ``format: csv`` (Swagger's own ``collectionFormat`` too).
    is_list = "csv" in (parameter.get("format"), parameter.get("collectionFormat"))
    items = value.split(",") if is_list or "," in value else [value]
    errors = []
    if not is_list and len(items) > 1 and "enum" in parameter:
        errors.append(f"query {name} takes one value, got {value!r}")
    if "enum" in parameter:
        allowed = parameter["enum"]
        errors += [f"query {name}: {item!r} is not one of {allowed}" for item in items if item not in allowed]
    if "maximum" in parameter and len(items) > parameter["maximum"]:  # CC's way of capping a list
        errors.append(f"query {name} lists {len(items)} values, over {parameter['maximum']}")
    for item in items:
        if not FORMATS.conforms(item, parameter.get("format", "")):
            errors.append(f"query {name}={item!r} is not a {parameter['format']}")
    return errors


def request_violations(request: httpx.Request) -> list[str]:
    """Every way ``request`` differs from the Swagger file's operations (empty when it conforms)."""
    raw_path, _, raw_query = request.url.raw_path.decode("ascii").partition("?")
    if not raw_path.startswith(BASE_PATH + "/"):
        return [f"{request.method} {raw_path}: not under {BASE_PATH}/"]
    found = operation_for(request.method, raw_path[len(BASE_PATH) :])
    if found is None:
        return [f"{request.method} {raw_path}: no such operation in the Swagger file"]
    template, operation = found
    where = f"{request.method} {BASE_PATH}{template}"
    declared = {p["name"]: p for p in operation.get("parameters", [])}
    errors: list[str] = []

    query = parse_qsl(raw_query, keep_blank_values=True)
    names = [name for name, _ in query]
    for name in {n for n in names if names.count(n) > 1}:
        errors.append(f"{where}: query {name} repeated")
    for name, value in query:
        parameter = declared.get(name)
        if name == PAGING_PARAMETER and request.method == "GET" and "limit" in declared:
            continue
        if parameter is None or parameter.get("in") != "query":
            errors.append(f"{where}: query {name} is not a parameter of this operation")
            continue
        errors += [f"{where}: {e}" for e in _query_value_errors(parameter, value)]
    for name, parameter in declared.items():
        if parameter.get("in") == "query" and parameter.get("required") and name not in names:
            errors.append(f"{where}: required query {name} missing")

    body_parameter = next((p for p in declared.values() if p.get("in") == "body"), None)
    if body_parameter is None:
        if request.content:
            errors.append(f"{where}: sends a body, the operation takes none")
    elif not request.content:
        if body_parameter.get("required"):
            errors.append(f"{where}: required body missing")
    else:
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            errors.append(f"{where}: body without Content-Type: application/json")
        try:
            body = orjson.loads(request.content)
        except orjson.JSONDecodeError:
            errors.append(f"{where}: body is not JSON")
        else:
            errors += [f"{where} body {e}" for e in _schema_errors(body_parameter["schema"], body)]
    return errors


@dataclass
class CheckingTransport(httpx.AsyncBaseTransport):
    """Checks every request against the Swagger file before passing it on; violations are kept.

    Requests to ``exempt_suffixes`` (the OAuth token endpoint, not part of the v3 file) are passed on
    unchecked.  Nothing is refused here, so the behaviour under test is unchanged: the test (or the
    fixture that made the transport) asserts ``violations`` is empty.
    """

    inner: httpx.AsyncBaseTransport
    exempt_suffixes: tuple[str, ...] = ("/oauth2/default/v1/token",)
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith(self.exempt_suffixes):
            self.checked += 1
            self.violations += request_violations(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
