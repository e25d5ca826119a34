"""The workloads both sides answer, as GraphQL bodies, and what each side's answer holds.

Each :class:`Workload` pairs our query with the closest query the peer's supergraph can express, and
says in ``differs`` what is not the same.  The bodies need a few facts read from the running stack
first (:class:`Inputs`: cursors of a later page on each side, addresses to look up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "CC_FIELDS",
    "OURS_FIELDS",
    "Inputs",
    "Workload",
    "contacts_in_answer",
    "cursor_from_href",
    "peer_lookup_query",
    "workloads",
]

OURS_FIELDS = "id provider contactId email name deletedOn reason"
CC_FIELDS = "contact_id email_address { address } first_name last_name created_at deleted_at"

OURS_PAGE = (
    "query Page($first: Int!, $after: String, $filter: DeletedContactFilterInput) {\n"
    "  deletedContacts(first: $first, after: $after, filter: $filter) {\n"
    f"    pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {OURS_FIELDS} }} }}\n"
    "  }\n}"
)
OURS_LOOKUP = (
    "query Lookup($emails: [String!]!) {\n"
    "  deletedContactsByEmail(emails: $emails) {\n"
    "    email deletedContacts { id provider contactId email deletedOn reason }\n"
    "  }\n}"
)
PEER_CC_PAGE = (
    "  cc: getContacts(status: deleted, limit: 50) {\n"
    f"    contacts {{ {CC_FIELDS} }} _links {{ next {{ href }} }}\n"
    "  }\n"
)
PEER_CC_FIRST = "query CcFirst {\n" + PEER_CC_PAGE + "}"
PEER_BOTH_FIRST = (
    "query BothFirst {\n"
    + PEER_CC_PAGE
    + "  gr: getResponseDeletedContacts { result error { code message } }\n"
    "}"
)
PEER_CC_LATER = (
    "query CcLater($cursor: String!) {\n"
    f"  cc: contactsPage(cursor: $cursor) {{ contacts {{ {CC_FIELDS} }} _links }}\n"
    "}"
)
PEER_GR_REASON = (
    "query GrUnsubscribed {\n"
    '  gr: getResponseDeletedByReason(reason: "unsubscribe") { result error { code message } }\n'
    "}"
)

LATER_PAGE_OFFSET = 100
"""The later page starts after this many contacts (the third page of 50)."""


@dataclass(frozen=True, slots=True)
class Inputs:
    ours_later_cursor: str
    """Our endCursor after the first ``LATER_PAGE_OFFSET`` Constant Contact contacts."""
    peer_later_cursor: str
    """Constant Contact's cursor of the page after the first ``LATER_PAGE_OFFSET`` (read via the peer)."""
    emails: list[str]


@dataclass(frozen=True, slots=True)
class Workload:
    key: str
    title: str
    ours: dict[str, Any]
    peer: dict[str, Any]
    differs: str

    def body(self, side: str) -> dict[str, Any]:
        """What ``side`` is sent: the peer its own query, every process of ours (``ours``, ``plain``)
        ours."""
        return self.peer if side == "peer" else self.ours


def cursor_from_href(href: str | None) -> str | None:
    """The ``cursor`` query parameter of a Constant Contact ``_links.next.href``; None at the end."""
    if not href:
        return None
    values = parse_qs(urlsplit(href).query).get("cursor")
    return values[0] if values else None


def peer_lookup_query(count: int) -> str:
    """One query for ``count`` addresses on the peer: per address, Constant Contact's ``getContacts``
    with ``email`` (it takes one address) and GetResponse's ``get_contacts_deleted`` with an ``email``
    condition (one ``EQUALS``): ``2 * count`` root fields, one upstream request each."""
    declared = ", ".join(f"$e{n}: String!" for n in range(count))
    fields = "\n".join(
        f"  c{n}: getContacts(status: deleted, email: $e{n}) {{\n"
        "    contacts { contact_id email_address { address } deleted_at }\n  }\n"
        f"  g{n}: getResponseDeletedByEmail(email: $e{n}) {{ result }}"
        for n in range(count)
    )
    return f"query Lookup({declared}) {{\n{fields}\n}}"


def workloads(inputs: Inputs) -> list[Workload]:
    cc_only = {"providers": ["CONSTANT_CONTACT"]}
    unsubscribed = {"providers": ["GETRESPONSE"], "reasons": ["UNSUBSCRIBE"]}
    emails = inputs.emails
    return [
        Workload(
            "cc-first",
            "first page, Constant Contact",
            {"query": OURS_PAGE, "variables": {"first": 50, "filter": cc_only}},
            {"query": PEER_CC_FIRST, "variables": {}},
            "ours: the 50 most recently deleted, by deletion time, from the index; peer: the first 50 in "
            "Constant Contact's creation order, read from Constant Contact",
        ),
        Workload(
            "both-first",
            "first page, both providers",
            {"query": OURS_PAGE, "variables": {"first": 50}},
            {"query": PEER_BOTH_FIRST, "variables": {}},
            "ours: one merged page of 50 by deletion time; peer: Constant Contact's first 50 (creation "
            "order) beside every GetResponse deletion as one unordered JSON map (GetResponse 1.5 "
            "cannot page): the client merges, sorts and cuts",
        ),
        Workload(
            "cc-later",
            f"later page (contacts {LATER_PAGE_OFFSET + 1}-{LATER_PAGE_OFFSET + 50}), Constant Contact",
            {
                "query": OURS_PAGE,
                "variables": {"first": 50, "after": inputs.ours_later_cursor, "filter": cc_only},
            },
            {"query": PEER_CC_LATER, "variables": {"cursor": inputs.peer_later_cursor}},
            "ours: keyset page by deletion time; peer: Constant Contact's own cursor (creation order) "
            "through a hand-described operation, since the official Swagger file has no `cursor` "
            "parameter; merged later pages cannot be expressed on the peer",
        ),
        Workload(
            "gr-filtered",
            "filtered page: GetResponse unsubscribes",
            {"query": OURS_PAGE, "variables": {"first": 50, "filter": unsubscribed}},
            {"query": PEER_GR_REASON, "variables": {}},
            "ours: the 50 most recent unsubscribes; peer: every unsubscribe as one unordered JSON map "
            "(no order, no page size); a filter across both providers cannot be expressed on the peer "
            "(Constant Contact cannot filter deleted contacts by reason or deletion day)",
        ),
        Workload(
            "lookup",
            f"lookup of {len(emails)} addresses",
            {"query": OURS_LOOKUP, "variables": {"emails": emails}},
            {
                "query": peer_lookup_query(len(emails)),
                "variables": {f"e{n}": e for n, e in enumerate(emails)},
            },
            f"ours: one field, answered from the index; peer: {2 * len(emails)} aliased root fields "
            "(Constant Contact takes one address per request, GetResponse one EQUALS condition)",
        ),
    ]


def contacts_in_answer(data: dict[str, Any]) -> int:
    """Deleted contacts in a GraphQL ``data`` member of either side (connections, lookups, REST
    ``contacts`` lists and GetResponse's id-keyed ``result`` maps, wherever they appear)."""
    total = 0
    for value in data.values():
        if not isinstance(value, dict):
            if isinstance(value, list):  # our lookup: a list of EmailDeletions
                total += sum(
                    len(item.get("deletedContacts") or []) for item in value if isinstance(item, dict)
                )
            continue
        if isinstance(value.get("edges"), list):
            total += len(value["edges"])
        if isinstance(value.get("contacts"), list):
            total += len(value["contacts"])
        if isinstance(value.get("result"), dict):
            total += len(value["result"])
    return total
