"""Hostile material for the fuzz tests: strings, dates, ids, documents and HTTP requests.

Everything here is a Hypothesis strategy.  The values are the kinds that broke the gateway before
(issue 19): empty and blank strings, path characters, strings past 65,536 characters (the URL limit of
httpx), ``%``/``_``-heavy LIKE patterns, calendar edges, long fragment chains, many aliases, and
transport-level garbage.  They are mixed with ordinary values so that most requests still reach the
providers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import graphql
import orjson
from hypothesis import strategies as st

__all__ = [
    "CONTACT_TYPE_OF_SIDE",
    "GLOBAL_TYPES",
    "PROVIDER_OF_SIDE",
    "RawRequest",
    "contact_references",
    "dates",
    "global_id",
    "hostile_text",
    "patterns",
    "scalar_nodes",
    "seeded_references",
    "shaped_documents",
    "transport_requests",
]

# Past 65,536 characters httpx refuses to build a URL (issue 19); 254 is the longest valid address.
URL_BREAKING_LENGTH = 70_000
ODD_STRINGS = (
    "",
    " ",
    "\t",
    "\n",
    ".",
    "..",
    "/",
    "../",
    "./.",
    "a/b",
    "..%2F..%2Fv3",
    "?",
    "#",
    "&email=",
    "%",
    "_",
    "%%",
    "%_%",
    "\\",
    '"',
    "'",
    "\x00",
    "\u202e",
    "\ufeff",
    "İ",
    "ß",
    "👩\u200d👩\u200d👧",
    "null",
    "undefined",
    "0",
    "-1",
    "@",
    "a@",
    "@b",
    "a@b",
    "x@example.com",
    "X@EXAMPLE.COM",
    "%@%",
    "_@_._",
)
GLOBAL_TYPES = (
    "ConstantContactDeletedContact",
    "GetResponseDeletedContact",
    "BulkOperation",
    "ConstantContactList",
    "Nope",
    "",
)


def _huge() -> st.SearchStrategy[str]:
    lengths = st.sampled_from([254, 255, 256, 1_000, 65_536, 65_537, URL_BREAKING_LENGTH])
    return st.builds(
        lambda unit, n: (unit * n)[:n], st.sampled_from(["a", "%", "_", "é", "/", "a@"]), lengths
    )


def patterns() -> st.SearchStrategy[str]:
    """LIKE patterns heavy in ``%`` and ``_``, including the ones that backtrack exponentially.

    At most eight ``%`` per pattern: enough for a backtracking matcher to miss the deadline (nine
    held one for about 20 s on the demo data, issue 19; each ``%`` triples it), few enough that such a
    matcher stalls one example for minutes rather than the whole run for hours.
    """
    return st.one_of(
        st.text(alphabet="%_ab.@!", max_size=9),
        st.builds(lambda n, tail: "%" * n + tail, st.integers(1, 8), st.sampled_from(["!", "", "a", "x%!"])),
        st.builds(lambda n: "%a" * n + "!", st.integers(1, 8)),
        st.builds(lambda n: "_" * n, st.integers(0, 300)),
    )


def hostile_text(*, huge: bool = True) -> st.SearchStrategy[str]:
    """Any string argument: ordinary text, odd fixed strings, patterns, and (unless not) huge strings."""
    options = [st.text(max_size=40), st.sampled_from(ODD_STRINGS), patterns()]
    return st.one_of(*options, _huge()) if huge else st.one_of(*options)


def dates() -> st.SearchStrategy[str]:
    """Calendar edges, impossible dates and strings that are not dates at all."""
    return st.one_of(
        st.sampled_from(
            [
                "0001-01-01",
                "0001-01-02",
                "9999-12-31",
                "9999-12-30",
                "1970-01-01",
                "2000-02-29",
                "2024-02-29",
                "2023-02-29",
                "2024-02-30",
                "2024-13-01",
                "2024-00-10",
                "0000-01-01",
                "10000-01-01",
                "-0001-01-01",
                "2024-1-1",
                "2024-01-01T00:00:00",
                "2024-01-01T00:00:00+14:00",
                "",
                "today",
            ]
        ),
        st.dates().map(lambda day: day.isoformat()),
    )


def global_id(type_name: str, local_id: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{local_id}".encode()).decode().rstrip("=")


def _ids() -> st.SearchStrategy[str]:
    """Global ids of every kind around hostile local ids, and strings that are no ids at all."""
    return st.one_of(
        st.builds(global_id, st.sampled_from(GLOBAL_TYPES), hostile_text()),
        hostile_text(),
    )


def scalar_nodes() -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """``custom_scalars`` for hypothesis-graphql: hostile String, ID and Date literals."""
    return {
        "String": hostile_text().map(lambda value: graphql.StringValueNode(value=value)),
        "ID": _ids().map(lambda value: graphql.StringValueNode(value=value)),
        "Date": dates().map(lambda value: graphql.StringValueNode(value=value)),
        "DateTime": dates().map(lambda value: graphql.StringValueNode(value=value)),
        # Deletion-feed positions are decimal strings: hostile text tries everything else.
        "EventPosition": hostile_text().map(lambda value: graphql.StringValueNode(value=value)),
    }


# -- documents with variables ----------------------------------------------------------------------

LIST = """query($f: DeletedContactFilterInput, $first: Int, $after: String) {
  deletedContacts(filter: $f, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id provider contactId email name deletedOn reason restorable } }
    sources { provider ok status count }
  }
}"""
BY_EMAIL = """query($emails: [String!]!) {
  deletedContactsByEmail(emails: $emails) { email suppressedBy deletedContacts { id contactId email } }
}"""
BY_ID = """query($id: ID!) {
  node(id: $id) { id ... on DeletedContact { email deletedOn } }
  deletedContact(id: $id) { id email }
  bulkOperation(id: $id) { id state }
}"""
BY_IDS = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }"

_INTEGERS = st.integers(-(2**63), 2**64 - 1)  # what JSON encoders take; GraphQL's Int is 32-bit
_JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    _INTEGERS,
    st.floats(allow_nan=False),
    st.lists(_INTEGERS, max_size=3),
    st.dictionaries(st.text(max_size=5), _INTEGERS, max_size=2),
)


def _sometimes_junk(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly ``strategy``; now and then a JSON value of the wrong type (a coercion error)."""
    return st.one_of(strategy, strategy, strategy, _JUNK)


def _condition() -> st.SearchStrategy[Any]:
    return _sometimes_junk(
        st.fixed_dictionaries(
            {
                "operator": st.sampled_from(["EQUALS", "NOT_EQUALS", "CONTAINS", "NOT_CONTAINS", "LIKE"]),
                "value": st.one_of(hostile_text(), patterns()),
            }
        )
    )


def _day_range() -> st.SearchStrategy[Any]:
    return _sometimes_junk(
        st.fixed_dictionaries({}, optional={"from": dates(), "to": dates(), "on": dates()})
    )


def _filter() -> st.SearchStrategy[Any]:
    providers = st.lists(st.sampled_from(["CONSTANT_CONTACT", "GETRESPONSE", "MAILCHIMP"]), max_size=3)
    reasons = st.lists(
        st.sampled_from(["UNSUBSCRIBE", "COMPLAINT", "BOUNCE_MAILBOX_FULL", "API"]), max_size=3
    )
    return _sometimes_junk(
        st.fixed_dictionaries(
            {},
            optional={
                "providers": providers,
                "email": st.lists(_condition(), max_size=3),
                "name": st.lists(_condition(), max_size=3),
                "reasons": reasons,
                "createdOn": _day_range(),
                "deletedOn": _day_range(),
                "campaignIds": st.lists(hostile_text(), max_size=3),
                "campaignName": _condition(),
                "messageIds": st.lists(hostile_text(), max_size=3),
                "messageName": _condition(),
            },
        )
    )


def _with_variables() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    listing = st.fixed_dictionaries(
        {},
        optional={
            "f": _filter(),
            "first": _sometimes_junk(st.integers(-(2**40), 2**40)),
            "after": _sometimes_junk(_ids()),
        },
    )
    return st.one_of(
        st.tuples(st.just(LIST), listing),
        st.tuples(
            st.just(BY_EMAIL), st.fixed_dictionaries({"emails": _sometimes_junk(st.lists(hostile_text()))})
        ),
        st.tuples(st.just(BY_ID), st.fixed_dictionaries({"id": _sometimes_junk(_ids())})),
        st.tuples(st.just(BY_IDS), st.fixed_dictionaries({"ids": _sometimes_junk(st.lists(_ids()))})),
    )


# -- documents whose shape is the attack -------------------------------------------------------------


def _fragment_chain(length: int, on: str = "Query") -> str:
    spreads = [f"fragment F{i} on {on} {{ ...F{i + 1} }}" for i in range(length)]
    return "query { ...F0 } " + " ".join(spreads) + f" fragment F{length} on {on} {{ __typename }}"


def _fragment_cycle(length: int) -> str:
    spreads = [f"fragment F{i} on Query {{ ...F{(i + 1) % length} }}" for i in range(length)]
    return "query { ...F0 } " + " ".join(spreads)


def _aliases(count: int, field: str) -> str:
    return "{ " + " ".join(f"a{i}: {field}" for i in range(count)) + " }"


def _nested_inline(depth: int) -> str:
    return "{ " + "... on Query { " * depth + "__typename" + " }" * depth + " }"


def _deep_list(depth: int) -> str:
    return "{ deletedContactsByEmail(emails: " + "[" * depth + '"a@b.c"' + "]" * depth + ") { email } }"


def _shapes() -> st.SearchStrategy[str]:
    leaves = st.sampled_from(
        [
            "providers { configured }",
            "__typename",
            "deletedContacts(first: 1) { totalCount }",
            'node(id: "x") { id }',
            "constantContactLists { id }",
        ]
    )
    return st.one_of(
        st.builds(_fragment_chain, st.integers(1, 2_000)),
        st.builds(_fragment_chain, st.integers(200, 1_000), st.just("Node")),
        st.builds(_fragment_cycle, st.integers(1, 500)),
        st.builds(_aliases, st.integers(1, 3_000), leaves),
        st.builds(_nested_inline, st.integers(1, 3_000)),
        st.builds(_deep_list, st.integers(1, 3_000)),
        st.builds(lambda n: "{" * n + "}" * n, st.integers(1, 5_000)),
        st.builds(lambda n: "query " + "($v: Int)" * n + " { __typename }", st.integers(1, 500)),
        st.builds(lambda n: "{ __typename " + "@skip(if: false) " * n + "}", st.integers(1, 2_000)),
        st.just("{ __schema { types { name fields { name } } } }"),
        st.just("subscription { deletedContacts { totalCount } }"),
        st.just("query A { __typename } query B { __typename }"),
    )


def shaped_documents() -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """A document and its variables: hostile variables in real queries, or a hostile document shape."""
    return st.one_of(_with_variables(), st.tuples(_shapes(), st.just({})))


# -- hostile transport -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": self.headers,
            "params": {k: v[:300] for k, v in self.params.items()},
            "body": self.body[:300].decode("utf-8", "replace"),
            "body_length": len(self.body),
        }


_CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/json;;;",
    "APPLICATION/JSON",
    "application/graphql",
    "application/graphql-response+json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "",
    "garbage",
)
_ACCEPTS = (
    "application/json",
    "application/graphql-response+json",
    "text/html",
    "*/*",
    "image/png",
    "application/json;q=0",
    "",
    "application/graphql-response+json;q=0.9, application/json;q=abc",
)
_QUERIES = (
    "{ providers { provider configured } }",
    "{ deletedContacts(first: 2) { totalCount } }",
    "mutation { deleteContacts(input: {contacts: []}) { userErrors { code } } }",
    "{ nope }",
    "{ deletedContacts { ",
    "",
)


def _padded_past(size: int) -> bytes:
    return b'{"query": "{ __typename }", "pad": "' + b"x" * size + b'"}'


def _bodies() -> st.SearchStrategy[bytes]:
    document = st.fixed_dictionaries(
        {"query": st.one_of(st.sampled_from(_QUERIES), _JUNK)},
        optional={
            "variables": st.one_of(_JUNK, st.text(max_size=20)),
            "operationName": st.one_of(_JUNK, st.text(max_size=10)),
            "extensions": st.one_of(_JUNK, st.text(max_size=10)),
        },
    ).map(orjson.dumps)
    return st.one_of(
        document,
        document.flatmap(lambda raw: st.integers(0, len(raw)).map(lambda n: raw[:n])),  # truncated JSON
        st.lists(document, max_size=3).map(lambda docs: b"[" + b",".join(docs) + b"]"),  # a batch
        st.sampled_from([b"null", b"1", b'"{}"', b"[]", b"{}", b"\xff\xfe", b'{"query": "\\ud800"}']),
        st.binary(max_size=200),
        st.integers(1024 * 1024, 1024 * 1024 + 10).map(_padded_past),  # over 1 MiB
        st.builds(lambda n: b"[" * n + b"]" * n, st.integers(1, 100_000)),  # deep JSON nesting
    )


def transport_requests() -> st.SearchStrategy[RawRequest]:
    posts = st.builds(
        RawRequest,
        method=st.sampled_from(["POST", "POST", "POST", "PUT", "PATCH", "DELETE"]),
        path=st.sampled_from(["/graphql", "/graphql", "/graphql/", "/graphql?query=%7B__typename%7D"]),
        headers=st.fixed_dictionaries(
            {"content-type": st.sampled_from(_CONTENT_TYPES)}, optional={"accept": st.sampled_from(_ACCEPTS)}
        ),
        body=_bodies(),
    )
    gets = st.builds(
        RawRequest,
        method=st.sampled_from(["GET", "GET", "HEAD", "OPTIONS"]),
        path=st.just("/graphql"),
        headers=st.fixed_dictionaries({}, optional={"accept": st.sampled_from(_ACCEPTS)}),
        params=st.fixed_dictionaries(
            {},
            optional={
                # A URL longer than 65,536 characters is refused by httpx itself, before sending.
                "query": st.one_of(st.sampled_from(_QUERIES), hostile_text(huge=False)),
                "variables": st.one_of(st.just('{"a": 1}'), st.just("[1]"), hostile_text(huge=False)),
                "operationName": hostile_text(huge=False),
                "extensions": st.just("{"),
            },
        ),
    )
    return st.one_of(posts, gets)


# -- references to contacts that exist --------------------------------------------------------------

PROVIDER_OF_SIDE = {"cc": "CONSTANT_CONTACT", "gr": "GETRESPONSE"}
CONTACT_TYPE_OF_SIDE = {"cc": "ConstantContactDeletedContact", "gr": "GetResponseDeletedContact"}


def _id_variants(contact_id: str) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            contact_id,
            contact_id,
            contact_id.upper(),
            f" {contact_id} ",
            contact_id[:-1],
            f"{contact_id}/",
            f"../{contact_id}",
            f"{contact_id}?include=notes",
            f"{contact_id}%2F..",
        ]
    )


def _email_variants(email: str) -> st.SearchStrategy[str]:
    local, _, domain = email.partition("@")
    return st.sampled_from(
        [
            email,
            email,
            email.upper(),
            email.swapcase(),
            f" {email} ",
            f"{email}.",
            f"%{email[1:]}",
            f"{local[:-1]}_@{domain}",
            f"{local}@",
            f"@{domain}",
            f"%@{domain}",
        ]
    )


def seeded_references(truth: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """The ids and addresses in the emulators' seeded data, per side, from their ground truth."""
    cc = truth["cc"]["contacts"]
    gr_deleted = truth["gr"]["deleted"]
    return {
        "cc": {
            "ids": sorted(cc),
            "emails": sorted({c["email_address"]["address"] for c in cc.values()}),
        },
        "gr": {
            "ids": sorted({*truth["gr"]["contacts"], *(d["contact_id"] for d in gr_deleted)}),
            "emails": sorted(
                {c["email"] for c in truth["gr"]["contacts"].values()} | {d["email"] for d in gr_deleted}
            ),
        },
    }


def contact_references(seeded: dict[str, dict[str, list[str]]]) -> st.SearchStrategy[dict[str, Any]]:
    """``ContactRefInput`` values: real contacts named well or badly, and references to nothing."""

    # Half the time a reference names nothing at all: the values a lenient lookup turns into "all".
    nothing = st.sampled_from(["", " ", ".", "..", "/", "%", "_", "%@%", "*"])

    def by_side(side: str) -> st.SearchStrategy[dict[str, Any]]:
        ids = st.one_of(st.sampled_from(seeded[side]["ids"]).flatmap(_id_variants), nothing)
        emails = st.one_of(st.sampled_from(seeded[side]["emails"]).flatmap(_email_variants), nothing)
        provider = st.sampled_from(
            [PROVIDER_OF_SIDE[side]] * 3 + [PROVIDER_OF_SIDE["gr" if side == "cc" else "cc"]]
        )
        return st.one_of(
            st.builds(lambda i: {"id": global_id(CONTACT_TYPE_OF_SIDE[side], i)}, ids),
            st.builds(lambda p, i: {"provider": p, "contactId": i}, provider, ids),
            st.builds(lambda p, e: {"provider": p, "email": e}, provider, emails),
            st.builds(lambda p, e: {"provider": p, "email": e, "contactId": None}, provider, emails),
            st.builds(lambda e: {"email": e}, emails),
        )

    hostile = st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(st.none(), st.builds(global_id, st.sampled_from(GLOBAL_TYPES), hostile_text())),
            "provider": st.sampled_from(["CONSTANT_CONTACT", "GETRESPONSE"]),
            "contactId": st.one_of(st.none(), hostile_text()),
            "email": st.one_of(st.none(), hostile_text()),
        },
    )
    return st.one_of(by_side("cc"), by_side("gr"), hostile)
