"""Fuzzing over real HTTP: generated and hostile requests never get a 5xx, an ``INTERNAL_SERVER_ERROR``,
a stall or a stray write.

Five tests, one stack (``conftest.py``: both emulators and the gateway under uvicorn):

- ``test_generated_queries``: hypothesis-graphql queries from ``schema.graphql``, valid and with one
  schema violation each, their String/ID/Date literals drawn from hostile material (``hostile.py``);
- ``test_shaped_documents``: real queries with hostile variables, and documents whose shape is the
  attack (fragment chains and cycles, thousands of aliases, deep nesting, deep lists);
- ``test_hostile_transport``: wrong methods, content types and accept headers, truncated JSON, batches,
  bodies over 1 MiB, GET with mutations;
- ``test_generated_mutations``: hypothesis-graphql mutations, valid and invalid;
- ``test_mutations_touch_only_named_contacts``: delete and restore inputs naming seeded contacts well
  and badly (case, padding, path characters, wildcards, empty strings, the other provider).

Every example must answer within ``DEADLINE_SECONDS`` (10 s) with no 5xx, no ``INTERNAL_SERVER_ERROR``
in ``errors``, no traceback, and nothing logged at ERROR by the servers.  A query must write nothing
upstream.  After a mutation every contact record changed at either emulator must be one the input
named (by id, or by address compared trimmed and case-insensitively; a GetResponse restore creates a
new id, so the address of a contact named by id counts as named), and an input refused as a whole,
or item by item, must have written nothing (writes counted from ``/_emulator/requests``).  The
emulators go back to their seed (``POST /_emulator/reset``) after any mutation that wrote.

Size and randomness.  By default the five tests run 2,700 examples between them, derandomized: the
same examples on every run, so CI is reproducible and a red build means a change broke something,
not that the dice found something new.  ``FUZZ_EXAMPLES=20000`` (any number) shares that many examples
out in the same proportions and explores at random, with Hypothesis's example database so that a
failure found once is replayed first next time::

    FUZZ_EXAMPLES=20000 pytest tests/fuzz

``FUZZ_FINDINGS=<file>`` records every failure as a JSON line in that file instead of stopping at the
first (no shrinking then): the way to survey all the failure classes of a branch in one run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, queries

from .conftest import FuzzStack
from .hostile import (
    CONTACT_TYPE_OF_SIDE,
    PROVIDER_OF_SIDE,
    RawRequest,
    contact_references,
    global_id,
    hostile_text,
    scalar_nodes,
    seeded_references,
    shaped_documents,
    transport_requests,
)
from .oracle import (
    Findings,
    Named,
    changed_contacts,
    check_exchange,
    decode_global_id,
    document_strings,
    refused_input,
    shorten,
    writes,
)

SCHEMA = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
DEFAULT_EXAMPLES = {"queries": 1000, "shaped": 700, "transport": 600, "mutations": 200, "named": 200}
REQUESTED = int(os.environ.get("FUZZ_EXAMPLES", "0") or 0)

T = TypeVar("T", bound=Callable[..., Any])


def fuzz_settings(name: str) -> Callable[[T], T]:
    default_total = sum(DEFAULT_EXAMPLES.values())
    count = DEFAULT_EXAMPLES[name]
    if REQUESTED:
        count = max(1, round(REQUESTED * count / default_total))
    return settings(
        max_examples=count,
        deadline=None,  # the client's timeout is the deadline; Hypothesis's would also time the stack
        derandomize=not REQUESTED,
        database=None if not REQUESTED else settings.default.database,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


@pytest.fixture(scope="module")
def baseline(fuzz_stack: FuzzStack) -> dict[str, Any]:
    """The seeded state of both emulators, which every mutation example starts from."""
    fuzz_stack.reset()
    return fuzz_stack.ground_truth()


def _exchange(stack: FuzzStack, findings: Findings, example: Any, sent: tuple[Any, str | None]) -> Any:
    response, failure = sent
    body = check_exchange(findings, example, response, failure)
    for line in stack.logs.take():
        findings.fail("server logged an error", line, example)
    return body


def _query_example(stack: FuzzStack, test: str, example: Any, send: Callable[[], Any]) -> None:
    findings = Findings(test)
    stack.reset_counts()
    _exchange(stack, findings, example, send())
    counted = writes(stack.counts())
    if any(counted.values()):
        findings.fail("a query wrote upstream", repr(counted), example)


def _mutation_example(
    stack: FuzzStack,
    baseline: dict[str, Any],
    test: str,
    document: str,
    variables: dict[str, Any],
    named: Named,
) -> None:
    findings = Findings(test)
    example = {"query": document, "variables": variables}
    stack.reset_counts()
    body = _exchange(stack, findings, example, stack.graphql(document, variables))
    counted = writes(stack.counts())
    changes = changed_contacts(baseline, stack.ground_truth())
    try:
        named.with_addresses_of_named_ids(baseline)
        stray = [change for change in changes if not named.covers(change)]
        if stray:
            sample = [(c.side, c.record_id, c.email) for c in stray[:3]]
            findings.fail(
                "a mutation changed contacts it did not name", f"{len(stray)} unnamed, e.g. {sample}", example
            )
        if refused_input(body) and any(counted.values()):
            answer = shorten(body)
            findings.fail("refused input wrote upstream", f"writes {counted}, answer {answer!r}", example)
    finally:
        if changes or any(counted.values()):
            stack.reset()


# -- the tests --------------------------------------------------------------------------------------


@fuzz_settings("queries")
@given(
    document=st.one_of(
        queries(SCHEMA, custom_scalars=scalar_nodes()),
        queries(SCHEMA, custom_scalars=scalar_nodes(), mode=Mode.NEGATIVE),
    )
)
def test_generated_queries(fuzz_stack: FuzzStack, document: str) -> None:
    example = {"query": document}
    _query_example(fuzz_stack, "generated_queries", example, lambda: fuzz_stack.graphql(document))


# The reproductions of issue 19 always run, whatever the generator draws.
LIST = "query($f: DeletedContactFilterInput) { deletedContacts(filter: $f, first: 5) { totalCount } }"
BY_EMAIL = "query($emails: [String!]!) { deletedContactsByEmail(emails: $emails) { email } }"
LONG = "a" * 70_000


@fuzz_settings("shaped")
@given(case=shaped_documents())
@example(case=(LIST, {"f": {"name": [{"operator": "CONTAINS", "value": "%" * 9 + "!"}]}}))
@example(case=(LIST, {"f": {"email": [{"operator": "CONTAINS", "value": "%" * 7 + "!"}]}}))
@example(case=(LIST, {"f": {"email": [{"operator": "EQUALS", "value": LONG}]}}))
@example(case=(LIST, {"f": {"deletedOn": {"from": "0001-01-01"}}}))
@example(case=(LIST, {"f": {"createdOn": {"to": "9999-12-31"}}}))
@example(case=(BY_EMAIL, {"emails": [LONG]}))
@example(
    case=(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": global_id("ConstantContactDeletedContact", LONG)},
    )
)
@example(
    case=("query($id: ID!) { node(id: $id) { id } }", {"id": global_id("ConstantContactDeletedContact", ".")})
)
@example(
    case=(
        "query { ...F0 } "
        + " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(240))
        + " fragment F240 on Query { __typename }",
        {},
    )
)
def test_shaped_documents(fuzz_stack: FuzzStack, case: tuple[str, dict[str, Any]]) -> None:
    document, variables = case
    example = {"query": document, "variables": variables}
    _query_example(fuzz_stack, "shaped_documents", example, lambda: fuzz_stack.graphql(document, variables))


@fuzz_settings("transport")
@given(request=transport_requests())
def test_hostile_transport(fuzz_stack: FuzzStack, request: RawRequest) -> None:
    findings = Findings("hostile_transport")
    fuzz_stack.reset_counts()
    example = request.describe()
    body = _exchange(fuzz_stack, findings, example, fuzz_stack.send(request))
    counted = writes(fuzz_stack.counts())
    if any(counted.values()):
        # The only mutation the transport sends has no contacts: it must not write either.
        findings.fail(
            "a malformed request wrote upstream", f"writes {counted}, answer {shorten(body)!r}", example
        )


@fuzz_settings("mutations")
@given(
    document=st.one_of(
        mutations(SCHEMA, custom_scalars=scalar_nodes()),
        mutations(SCHEMA, custom_scalars=scalar_nodes(), mode=Mode.NEGATIVE),
    )
)
@example(
    document='mutation { deleteContacts(input: {contacts: [{email: "", contactId: null, '
    'provider: CONSTANT_CONTACT}, {contactId: ""}], waitForCompletion: true}) '
    "{ results { index status code } userErrors { code index } } }"
)
def test_generated_mutations(fuzz_stack: FuzzStack, baseline: dict[str, Any], document: str) -> None:
    named = Named.from_strings(document_strings(document))
    _mutation_example(fuzz_stack, baseline, "generated_mutations", document, {}, named)


DELETE = """mutation($input: DeleteContactsInput!) {
  deleteContacts(input: $input) {
    results { index provider contactId email status code }
    userErrors { code message field index }
  }
}"""
RESTORE = """mutation($input: RestoreContactsInput!) {
  restoreContacts(input: $input) {
    results { index provider contactId email status code }
    userErrors { code message field index }
  }
}"""
SIDE_OF_PROVIDER = {provider: side for side, provider in PROVIDER_OF_SIDE.items()}
SIDE_OF_CONTACT_TYPE = {type_name: side for side, type_name in CONTACT_TYPE_OF_SIDE.items()}


def _named_by(refs: list[dict[str, Any]]) -> Named:
    """What the references name, precisely: an id or address at the provider the reference gives."""
    named = Named()
    for ref in refs:
        global_id = ref.get("id")
        if isinstance(global_id, str):
            decoded = decode_global_id(global_id)
            side = SIDE_OF_CONTACT_TYPE.get(decoded[0]) if decoded else None
            if decoded is not None and side is not None:
                named.add_id(side, decoded[1])
            continue
        side = SIDE_OF_PROVIDER.get(ref.get("provider") or "")
        if side is None:
            continue
        if isinstance(ref.get("contactId"), str):
            named.add_id(side, ref["contactId"])
        if isinstance(ref.get("email"), str):
            named.add_email(side, ref["email"])
    return named


@fuzz_settings("named")
@given(data=st.data())
def test_mutations_touch_only_named_contacts(
    fuzz_stack: FuzzStack, baseline: dict[str, Any], data: st.DataObject
) -> None:
    seeded = seeded_references(baseline)
    refs = data.draw(st.lists(contact_references(seeded), max_size=5), label="contacts")
    common = {
        "contacts": refs,
        "waitForCompletion": data.draw(st.booleans(), label="waitForCompletion"),
    }
    if data.draw(st.booleans(), label="delete"):
        document, variables = DELETE, {"input": common}
    else:
        lists = sorted(baseline["cc"]["lists"])
        campaigns = sorted(baseline["gr"]["campaigns"])
        extra = data.draw(
            st.fixed_dictionaries(
                {"dryRun": st.booleans()},
                optional={
                    "constantContactListIds": st.lists(
                        st.one_of(st.sampled_from(lists), hostile_text()), min_size=1, max_size=2
                    ),
                    "getResponseCampaignId": st.one_of(st.sampled_from(campaigns), hostile_text()),
                    "consentOverride": st.fixed_dictionaries(
                        {"reason": st.sampled_from(["written consent, ticket 4411", "ok", ""])}
                    ),
                },
            ),
            label="restore options",
        )
        document, variables = RESTORE, {"input": {**common, **extra}}
    _mutation_example(
        fuzz_stack, baseline, "mutations_touch_only_named_contacts", document, variables, _named_by(refs)
    )
