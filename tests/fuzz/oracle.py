"""What every fuzzed answer must satisfy, and how a failure is reported.

Checks on one exchange: an answer within the deadline, no 5xx, no ``INTERNAL_SERVER_ERROR`` anywhere in
``errors``, no traceback in the body, nothing logged at ERROR by the servers meanwhile.  Checks on the
emulators after a mutation: every contact whose record changed was named by the input, and an input
refused as a whole (or item by item) wrote nothing upstream.

``Findings`` raises the first failure (the normal test run, so Hypothesis shrinks it) or, with
``FUZZ_FINDINGS=<file>``, appends every failure to that JSON-lines file and lets the run go on: the
way to survey every failure class of a branch in one run.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphql
import httpx
import orjson

__all__ = [
    "BAD_INPUT_CODES",
    "WRITE_OPERATIONS",
    "Change",
    "Findings",
    "LogWatch",
    "Named",
    "changed_contacts",
    "check_exchange",
    "decode_global_id",
    "document_strings",
    "error_codes",
    "refused_input",
    "shorten",
    "writes",
]

INTERNAL = "INTERNAL_SERVER_ERROR"
# The codes that blame the input: an answer made only of these must have written nothing.
BAD_INPUT_CODES = frozenset(
    {"BAD_USER_INPUT", "INVALID_ID", "INVALID_CURSOR", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}
)
# Operations that change provider state (Swagger operationIds at Constant Contact, methods at GetResponse).
WRITE_OPERATIONS = {
    "cc": frozenset(
        {
            "createContact",
            "createOrUpdateContact",
            "putContact",
            "deleteContact",
            "postContactDelete",
            "postListAddContact",
        }
    ),
    "gr": frozenset(
        {"delete_contact", "move_contact", "add_contact", "set_account_callbacks", "delete_account_callbacks"}
    ),
}


def shorten(value: Any, limit: int = 200) -> Any:
    """``value`` with every long string replaced by a description (a reproduction stays readable)."""
    if isinstance(value, str) and len(value) > limit:
        return f"<{len(value)} chars: {value[:40]!r}...>"
    if isinstance(value, bytes) and len(value) > limit:
        return f"<{len(value)} bytes: {value[:40]!r}...>"
    if isinstance(value, dict):
        return {key: shorten(item, limit) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [shorten(item, limit) for item in value]
    return value


class Findings:
    """Failures of one test: raised at once, or collected in ``FUZZ_FINDINGS`` (see the module doc)."""

    def __init__(self, test: str) -> None:
        self.test = test
        target = os.environ.get("FUZZ_FINDINGS")
        self.path = Path(target) if target else None
        self.counts: Counter[str] = Counter()

    def fail(self, kind: str, detail: str, example: Any) -> None:
        self.counts[kind] += 1
        if self.path is None:
            raise AssertionError(f"{kind}: {detail}\nexample: {shorten(example)!r}")
        line = {"test": self.test, "kind": kind, "detail": detail[:2000], "example": shorten(example, 2000)}
        with self.path.open("ab") as out:
            out.write(orjson.dumps(line, default=repr) + b"\n")


class LogWatch(logging.Handler):
    """Collects ERROR records from every thread (the servers run in this process, in threads)."""

    LOGGERS = ("", "uvicorn", "uvicorn.error", "gateway")

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self._records: list[logging.LogRecord] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self._records.append(record)

    def install(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).addHandler(self)

    def uninstall(self) -> None:
        for name in self.LOGGERS:
            logging.getLogger(name).removeHandler(self)

    def take(self) -> list[str]:
        """The records since the last call, one line each (message and exception type)."""
        with self._lock:
            records, self._records = self._records, []
        lines = []
        for record in dict.fromkeys(records):  # a record reaches every logger it propagates through once
            text = f"{record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                text += f" [{type(error).__name__}: {str(error)[:200]}]"
            lines.append(text)
        return lines


def error_codes(body: Any) -> list[str]:
    """``extensions.code`` of every error in a GraphQL response body (``?`` where one has none)."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    codes = []
    for error in body["errors"]:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        codes.append(code if isinstance(code, str) else "?")
    return codes


def check_exchange(
    findings: Findings, example: Any, response: httpx.Response | None, failure: str | None
) -> Any:
    """The transport-level checks; the decoded body (or None) for further checks."""
    if response is None:
        findings.fail("no answer within the deadline", failure or "no response", example)
        return None
    if response.status_code >= 500:
        findings.fail(f"HTTP {response.status_code}", response.text[:500], example)
    if "Traceback (most recent call last)" in response.text:
        findings.fail("traceback in the body", response.text[:500], example)
    try:
        body = orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return None
    if INTERNAL in error_codes(body):
        messages = [
            (e.get("message"), e.get("path")) for e in body["errors"] if e.get("extensions", {}).get("code")
        ]
        findings.fail(INTERNAL, repr(messages)[:500], example)
    return body


def writes(counts: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Write operations counted at each emulator (``/_emulator/requests`` answers, keyed cc and gr)."""
    return {
        side: sum(n for op, n in counts[side]["operations"].items() if op in WRITE_OPERATIONS[side])
        for side in ("cc", "gr")
    }


def refused_input(body: Any) -> bool:
    """Whether the answer refuses the whole input: a request error, or every root field refused.

    A root mutation field is refused when it is null with a bad-input error at its path, or when its
    ``userErrors`` (which the document must select with ``index`` and ``code``) hold a bad-input
    entry for the input as a whole or for every contact it names.
    """
    if not isinstance(body, dict):
        return False
    codes = error_codes(body)
    data = body.get("data")
    if data is None:
        return bool(codes) and all(code in BAD_INPUT_CODES for code in codes)
    if not isinstance(data, dict) or not data:
        return False
    refused_paths = {
        e["path"][0]
        for e in body.get("errors", [])
        if isinstance(e.get("path"), list)
        and e["path"]
        and e.get("extensions", {}).get("code") in BAD_INPUT_CODES
    }
    return all(
        (payload is None and alias in refused_paths) or _payload_refused(payload)
        for alias, payload in data.items()
    )


def _payload_refused(payload: Any) -> bool:
    if not isinstance(payload, dict) or "userErrors" not in payload or "results" not in payload:
        return False
    errors = payload["userErrors"]
    if any(not isinstance(e, dict) or "index" not in e or "code" not in e for e in errors):
        return False
    bad = [e for e in errors if e["code"] in BAD_INPUT_CODES]
    if any(e["index"] is None for e in bad):
        return True
    # Every contact that has a result has a bad-input entry too (refused ones may have no result).
    results = payload["results"]
    if any(not isinstance(r, dict) or "index" not in r for r in results):
        return False
    return bool(bad) and {r["index"] for r in results} <= {e["index"] for e in bad}


@dataclass(frozen=True)
class Change:
    side: str  # "cc" or "gr"
    record_id: str
    email: str


def _cc_email(record: dict[str, Any]) -> str:
    address = record.get("email_address") or {}
    return str(address.get("address") or "")


def changed_contacts(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Every contact record that differs between two ground truths of both emulators."""
    changes: list[Change] = []
    cc_before, cc_after = before["cc"]["contacts"], after["cc"]["contacts"]
    for contact_id in cc_before.keys() | cc_after.keys():
        old, new = cc_before.get(contact_id), cc_after.get(contact_id)
        if old != new:
            changes.append(Change("cc", contact_id, _cc_email(new or old)))
    gr_before, gr_after = before["gr"]["contacts"], after["gr"]["contacts"]
    for contact_id in gr_before.keys() | gr_after.keys():
        old, new = gr_before.get(contact_id), gr_after.get(contact_id)
        if old != new:
            changes.append(Change("gr", contact_id, str((new or old)["email"])))
    for part in ("queued", "deleted"):
        old_items = Counter(orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in before["gr"][part])
        new_items = Counter(orjson.dumps(item, option=orjson.OPT_SORT_KEYS) for item in after["gr"][part])
        for raw in (old_items - new_items) + (new_items - old_items):
            item = orjson.loads(raw)
            changes.append(Change("gr", str(item.get("contact_id") or ""), str(item["email"])))
    return changes


def _fold(text: str) -> str:
    return text.strip().lower()


def decode_global_id(text: str) -> tuple[str, str] | None:
    """``(type name, local id)`` of a global id, if ``text`` decodes as one."""
    try:
        decoded = base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii")).decode()
    except (ValueError, binascii.Error, UnicodeError):
        return None
    type_name, colon, local = decoded.partition(":")
    return (type_name, local) if colon else None


@dataclass
class Named:
    """The contacts an input names, per emulator: ids and addresses (compared trimmed, case-folded)."""

    ids: dict[str, set[str]] = field(default_factory=lambda: {"cc": set(), "gr": set()})
    emails: dict[str, set[str]] = field(default_factory=lambda: {"cc": set(), "gr": set()})

    def add_id(self, side: str, contact_id: str) -> None:
        self.ids[side].add(_fold(contact_id))

    def add_email(self, side: str, email: str) -> None:
        self.emails[side].add(_fold(email))

    @classmethod
    def from_strings(cls, strings: list[str]) -> Named:
        """Every string (and every global id's local id) names a contact at either provider: the
        generous reading, for inputs whose structure the test does not know."""
        named = cls()
        for text in strings:
            decoded = decode_global_id(text)
            for side in ("cc", "gr"):
                named.add_id(side, text)
                named.add_email(side, text)
                if decoded is not None:
                    named.add_id(side, decoded[1])
        return named

    def with_addresses_of_named_ids(self, truth: dict[str, Any]) -> Named:
        """Also the addresses of the records named by id (a GetResponse restore creates a new id)."""
        cc_named = {
            _cc_email(record)
            for contact_id, record in truth["cc"]["contacts"].items()
            if _fold(contact_id) in self.ids["cc"]
        }
        gr_records = [*truth["gr"]["contacts"].items()]
        gr_records += [(d["contact_id"], d) for d in truth["gr"]["deleted"]]
        gr_named = {
            record["email"] for contact_id, record in gr_records if _fold(contact_id) in self.ids["gr"]
        }
        for email in cc_named:
            self.add_email("cc", email)
        for email in gr_named:
            self.add_email("gr", email)
        return self

    def covers(self, change: Change) -> bool:
        return (
            _fold(change.record_id) in self.ids[change.side]
            or _fold(change.email) in self.emails[change.side]
        )


def document_strings(document: str, variables: dict[str, Any] | None = None) -> list[str]:
    """Every string literal in a document and its variables."""
    strings: list[str] = []
    try:
        tree = graphql.parse(document)
    except graphql.GraphQLError:
        tree = None
    if tree is not None:

        class Collect(graphql.Visitor):
            def enter_string_value(self, node: graphql.StringValueNode, *_: Any) -> None:
                strings.append(node.value)

        graphql.visit(tree, Collect())
    _walk(variables, strings)
    return strings


def _walk(value: Any, into: list[str]) -> None:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _walk(item, into)
    elif isinstance(value, list):
        for item in value:
            _walk(item, into)
