"""GetResponse's 1.5 documentation as a strict checker of JSON-RPC calls and of their results.

The documentation is carried in ``fixtures/getresponse-1.5-methods.yaml`` (its header says from where
and in which vocabulary).  :func:`call_violations` checks one call: the 2.0 envelope and nothing else
in it, a documented method, ``params`` as ``["API_KEY"]`` for a method without conditions or
``["API_KEY", {conditions}]`` otherwise, and every condition a documented one of the right shape
(operators uppercased and of the right family, ``YYYY-MM-DD`` days, id arrays, nested conditions
checked as the nested method's), mandatory ones present, deprecated ones absent.
:func:`request_violations` checks one HTTP request (a POST of one call or of a non-empty batch, within
the documented size).  :func:`result_violations` checks a method's result against the documented
fields and their JSON types.

:class:`CheckingTransport` wraps any transport and records the violations of every request through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

__all__ = [
    "DOCUMENTED",
    "METHODS",
    "CheckingTransport",
    "call_violations",
    "condition_violations",
    "request_violations",
    "result_violations",
]

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DOCUMENTED: dict[str, Any] = yaml.safe_load((FIXTURES / "getresponse-1.5-methods.yaml").read_text())
METHODS: dict[str, Any] = DOCUMENTED["methods"]
OPERATORS: dict[str, list[str]] = DOCUMENTED["operators"]
PROTOCOL: dict[str, Any] = DOCUMENTED["protocol"]
_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_day(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _operator_violations(where: str, value: Any, family: str, *, several: bool, nullable: bool) -> list[str]:
    allowed = OPERATORS[family]
    if not isinstance(value, dict) or not value:
        return [f"{where}: must be an object {{OPERATOR: value}} of {family} operators"]
    if not several and len(value) != 1:
        return [f"{where}: takes exactly one {family} operator, got {sorted(value)}"]
    errors = []
    for operator, operand in value.items():
        if operator not in allowed:
            errors.append(f"{where}: {operator!r} is not a {family} operator ({', '.join(allowed)})")
        elif family == "text" and not isinstance(operand, str):
            errors.append(f"{where}.{operator}: must be a string")
        elif family == "time" and not _is_day(operand):
            errors.append(f"{where}.{operator}: {operand!r} is not a YYYY-MM-DD day")
        elif family == "numeric" and not (_is_number(operand) or (nullable and operand is None)):
            errors.append(f"{where}.{operator}: must be a number")
    return errors


def _value_violations(where: str, spec: dict[str, Any], value: Any) -> list[str]:
    kind = spec["type"]
    if kind in ("text", "time", "numeric"):
        several = kind == "time"
        return _operator_violations(where, value, kind, several=several, nullable=spec.get("nullable", False))
    if kind == "ids":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return [f"{where}: must be an array of id strings"]
        return []
    if kind == "conditions":
        return condition_violations(spec["of"], value, where=where)
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: must be a string"]
        if "pattern" in spec and not re.fullmatch(spec["pattern"], value):
            return [f"{where}: {value!r} does not match {spec['pattern']}"]
        if "max_length" in spec and len(value) > spec["max_length"]:
            return [f"{where}: longer than {spec['max_length']} characters"]
        return []
    if kind == "integer":
        if not _is_integer(value):
            return [f"{where}: must be an integer"]
        if "minimum" in spec and value < spec["minimum"]:
            return [f"{where}: {value} is below {spec['minimum']}"]
        return []
    if kind == "enum":
        return [] if value in spec["values"] else [f"{where}: {value!r} is not one of {spec['values']}"]
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: must be an object"]
        errors = [f"{where}: unknown member {key!r}" for key in value if key not in spec["fields"]]
        for key, item in value.items():
            if key in spec["fields"]:
                errors += _value_violations(f"{where}.{key}", spec["fields"][key], item)
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{where}: must be an array"]
        if len(value) < spec.get("min_items", 0):
            return [f"{where}: needs at least {spec['min_items']} item(s)"]
        return [
            error
            for i, item in enumerate(value)
            for error in _value_violations(f"{where}[{i}]", spec["items"], item)
        ]
    raise AssertionError(f"the fixture uses an unknown condition type {kind!r}")


def condition_violations(method: str, conditions: Any, *, where: str = "") -> list[str]:
    """Every way ``conditions`` (a method's ``params[1]``) differs from the documentation."""
    where = where or method
    documented = METHODS[method]["conditions"]
    if documented is None:
        return [f"{where}: takes no conditions"]
    if not isinstance(conditions, dict):
        return [f"{where}: conditions must be an object"]
    errors = []
    for key, value in conditions.items():
        spec = documented.get(key)
        if spec is None:
            errors.append(f"{where}: {key!r} is not a documented condition")
        elif spec.get("deprecated"):
            errors.append(f"{where}: {key!r} is deprecated (accepted and ignored)")
        else:
            errors += _value_violations(f"{where}.{key}", spec, value)
    errors += [
        f"{where}: mandatory {key!r} is missing"
        for key, spec in documented.items()
        if spec.get("mandatory") and key not in conditions
    ]
    return errors


def call_violations(call: Any) -> list[str]:
    """Every way one JSON-RPC call object differs from what the documentation allows."""
    if not isinstance(call, dict):
        return ["a call must be a JSON object"]
    errors = [
        f"envelope member {key!r} is not JSON-RPC 2.0's" for key in call if key not in PROTOCOL["envelope"]
    ]
    if call.get("jsonrpc") not in PROTOCOL["versions"]:
        errors.append(f"jsonrpc must be one of {PROTOCOL['versions']}, got {call.get('jsonrpc')!r}")
    if "id" in call and not (_is_integer(call["id"]) or isinstance(call["id"], str)):
        errors.append(f"id must be a number or a string, got {call['id']!r}")
    method = call.get("method")
    if method not in METHODS:
        return [*errors, f"method {method!r} is not documented"]
    params = call.get("params")
    if not isinstance(params, list) or not params or not isinstance(params[0], str):
        return [*errors, f"{method}: params must be [API_KEY] or [API_KEY, {{conditions}}]"]
    if METHODS[method]["conditions"] is None:
        if len(params) != 1:
            errors.append(f"{method}: params must be [API_KEY], the method takes no conditions")
    elif len(params) > 2:
        errors.append(f"{method}: params must be [API_KEY] or [API_KEY, {{conditions}}]")
    elif len(params) == 2:
        errors += condition_violations(method, params[1])
    else:
        errors += condition_violations(method, {})  # only mandatory conditions can be missing
    return errors


def request_violations(request: httpx.Request) -> list[str]:
    """Every way one HTTP request differs from the documented protocol and methods."""
    if request.method != "POST":
        return [f"{request.method} {request.url}: JSON-RPC is POST only"]
    body = request.content
    errors = []
    if len(body) > PROTOCOL["max_request_bytes"]:
        errors.append(f"request of {len(body)} bytes, over {PROTOCOL['max_request_bytes']}")
    if request.headers.get("content-type", "").split(";")[0] != "application/json":
        errors.append(f"content-type {request.headers.get('content-type')!r} is not application/json")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [*errors, "the body is not JSON"]
    if isinstance(document, list):
        if not document:
            return [*errors, "an empty batch"]
        return errors + [
            f"[{i}] {error}" for i, call in enumerate(document) for error in call_violations(call)
        ]
    return errors + call_violations(document)


def _type_violations(where: str, kind: str, value: Any) -> list[str]:
    nullable = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        return [] if nullable else [f"{where}: null where a {kind} is documented"]
    valid = {
        "string": lambda v: isinstance(v, str),
        "integer": _is_integer,
        "strings": lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v),
        "object": lambda v: isinstance(v, dict),
        "timestamp": _is_timestamp,
    }[kind](value)
    return [] if valid else [f"{where}: {value!r} is not a {kind}"]


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 19:
        return False
    try:
        datetime.strptime(value, _TIMESTAMP)
    except ValueError:
        return False
    return True


def _record_violations(where: str, shape: dict[str, Any], record: Any) -> list[str]:
    if not isinstance(record, dict):
        return [f"{where}: must be an object"]
    errors = [f"{where}: {key!r} is not a documented field" for key in record if key not in shape["fields"]]
    errors += [
        f"{where}: documented field {key!r} is missing" for key in shape["required"] if key not in record
    ]
    for key, value in record.items():
        if key in shape["fields"]:
            errors += _type_violations(f"{where}.{key}", shape["fields"][key], value)
    return errors


def result_violations(method: str, result: Any) -> list[str]:
    """Every way a method's result differs from the documented fields and their types."""
    shape = METHODS[method]["result"]
    if "record" in shape:
        return _record_violations(method, shape["record"], result)
    if not isinstance(result, dict):
        return [f"{method}: the result must be an object keyed by id"]
    return [
        error
        for record_id, record in result.items()
        for error in _record_violations(f"{method}[{record_id}]", shape["map"], record)
    ]


@dataclass
class CheckingTransport(httpx.AsyncBaseTransport):
    """Passes every request on to ``inner`` after recording how it breaks the documentation."""

    inner: httpx.AsyncBaseTransport
    violations: list[str] = field(default_factory=list)
    sent: list[bytes] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.sent)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.content)
        self.violations += [f"request {self.requests}: {error}" for error in request_violations(request)]
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()
