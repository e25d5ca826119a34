"""Section 1: upstream HTTP requests per GraphQL operation, against the least the provider APIs allow.

Counts come from the emulators (``GET /_emulator/requests``), reset before each operation.  The
minimum of each operation is derived from what the two APIs can do (stated next to each row):

- Constant Contact pages deleted contacts 500 at a time, filters by one exact ``email`` per request,
  reads one contact per ``GET /contacts/{id}``, and takes up to 500 ids per bulk activity.  Reading k
  deleted contacts (by id or address) therefore needs ``min(k, ceil(D / 500))`` GETs, D being the
  account's deleted contacts.  It records no deletion reason, so nothing it holds can suppress an
  address (no complaint, no blacklisting).
- GetResponse takes any number of calls in one JSON-RPC batch (one POST up to 1 MiB), so every
  question whose calls do not depend on each other's answers needs one POST.
"""

from __future__ import annotations

import math
from typing import Any

from bench.harness import Context, SectionResult, Verdict, table
from bench.queries import BY_EMAIL, DELETE, LIST_PAGE, LIST_PAGE_NESTED, NODES, RESTORE
from bench.servers import Stack, graphql

__all__ = ["run", "throttled"]

CC_PAGE = 500
CC_BULK = 500
CC = "CONSTANT_CONTACT"
GR = "GETRESPONSE"


def throttled(operations: dict[str, int]) -> int:
    """429s the Constant Contact emulator answered (``throttled`` and ``quota_exceeded``)."""
    return sum(n for name, n in operations.items() if name in ("throttled", "quota_exceeded"))


def _pages(deleted: int) -> int:
    return max(1, math.ceil(deleted / CC_PAGE))


async def _deleted_records(context: Context, stack: Stack, want: int, cap: int) -> dict[str, Any]:
    """Deleted contacts of both providers (walking pages until ``want`` of each kind are known)."""
    found: dict[str, list[dict[str, Any]]] = {CC: [], GR: []}
    counts: dict[str, int] = {}
    after = None
    while True:
        body, _, _ = await graphql(
            context.client,
            stack.graphql_url,
            LIST_PAGE,
            {"first": cap, "after": after},
            headers=stack.headers,
        )
        connection = body["data"]["deletedContacts"]
        counts = {s["provider"]: s["count"] for s in connection["sources"]}
        for edge in connection["edges"]:
            found[edge["node"]["provider"]].append(edge["node"])
        enough = all(sum(1 for n in nodes if n["restorable"]) >= want for nodes in found.values())
        if enough or not connection["pageInfo"]["hasNextPage"]:
            return {"nodes": found, "counts": counts}
        after = connection["pageInfo"]["endCursor"]


def _unique_emails(nodes: list[dict[str, Any]], count: int) -> list[str]:
    seen: dict[str, str] = {}
    for node in nodes:
        seen.setdefault(node["email"].lower(), node["email"])
    return list(seen.values())[:count]


def _active_ids(truth: Any, count: int) -> list[str]:
    contacts = truth["contacts"]
    items = contacts.items() if isinstance(contacts, dict) else ((c.get("contact_id"), c) for c in contacts)
    return [
        str(key) for key, c in items if not c.get("deleted_at") and c.get("status", "active") != "deleted"
    ][:count]


def _outcome(data: Any) -> str:
    if isinstance(data, dict) and "results" in data:
        statuses: dict[str, int] = {}
        for result in data["results"]:
            statuses[result["status"]] = statuses.get(result["status"], 0) + 1
        return ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    if isinstance(data, list):
        return f"{len(data)} answers"
    edges = data.get("edges") if isinstance(data, dict) else None
    return f"{len(edges)} contacts" if edges is not None else "ok"


async def run(context: Context, stack: Stack, *, cap: int) -> SectionResult:
    profile = context.profile
    context.progress("amplification: collecting ids, addresses and active contacts")
    half_emails = profile.emails // 2
    half_nodes = profile.node_ids // 2
    records = await _deleted_records(context, stack, max(profile.mutation_contacts, half_nodes), cap)
    nodes = records["nodes"]
    deleted_cc = records["counts"].get(CC, 0)
    cc_truth, gr_truth = await stack.cc.ground_truth(), await stack.gr.ground_truth()
    list_ids = list(cc_truth.get("lists", {}))[:1]
    emails = _unique_emails(nodes[CC], half_emails) + _unique_emails(nodes[GR], profile.emails - half_emails)
    node_ids = [n["id"] for n in nodes[CC][:half_nodes]] + [
        n["id"] for n in nodes[GR][: profile.node_ids - half_nodes]
    ]
    restore_cc = [{"id": n["id"]} for n in nodes[CC] if n["restorable"]][: profile.mutation_contacts]
    restore_gr = [{"id": n["id"]} for n in nodes[GR] if n["restorable"]][: profile.mutation_contacts]
    delete_cc = [{"provider": CC, "contactId": i} for i in _active_ids(cc_truth, profile.mutation_contacts)]
    delete_gr = [{"provider": GR, "contactId": i} for i in _active_ids(gr_truth, profile.mutation_contacts)]
    pages = _pages(deleted_cc)
    cc_nodes = min(half_nodes, len(nodes[CC]))

    operations: list[tuple[str, str, dict[str, Any], str, int, int, str]] = [
        (
            "a page of 50 deleted contacts, both providers, GetResponse campaign and message nested",
            LIST_PAGE_NESTED,
            {"first": 50},
            "deletedContacts",
            pages,
            2,
            "CC: every deleted contact is read to merge-sort (no order by deletion): "
            f"ceil({deleted_cc:,}/500) "
            "GETs. GR: 1 batch (`get_contacts_deleted` + the `get_contacts` that tells superseded deletions) "
            "+ 1 batch for the campaigns and messages the page names (both loaders in one POST); 1 POST in "
            "all only if every campaign and message were fetched up front in the first batch.",
        ),
        (
            f"lookup of {len(emails)} addresses (`deletedContactsByEmail`)",
            BY_EMAIL,
            {"emails": emails},
            "deletedContactsByEmail",
            min(len(emails), pages),
            1,
            f"CC: one `email=` GET per address or one full listing, whichever is fewer: min({len(emails)}, "
            f"{pages}). GR: 1 batch (one `get_contacts_deleted` per address + `get_contacts`).",
        ),
        (
            f"node lookup of {len(node_ids)} ids (`nodes`, {cc_nodes} CC + {len(node_ids) - cc_nodes} GR)",
            NODES,
            {"ids": node_ids},
            "nodes",
            min(cc_nodes, pages),
            1,
            f"CC: one GET per id or one full listing: min({cc_nodes}, {pages}). GR: 1 batch (one unfiltered "
            "`get_contacts_deleted` answers every id; no id condition exists).",
        ),
        (
            f"delete {len(delete_cc)} Constant Contact contacts (by contact id)",
            DELETE,
            {"contacts": delete_cc},
            "deleteContacts",
            math.ceil(len(delete_cc) / CC_BULK),
            0,
            "CC: one `contact_delete` activity POST per 500 ids. GR: not involved.",
        ),
        (
            f"delete {len(delete_gr)} GetResponse contacts (by contact id)",
            DELETE,
            {"contacts": delete_gr},
            "deleteContacts",
            0,
            1,
            "GR: 1 batch of `delete_contact` calls. CC: not involved.",
        ),
        (
            f"restore {len(restore_cc)} Constant Contact contacts (by global id, onto 1 list)",
            RESTORE,
            {"contacts": restore_cc, "lists": list_ids},
            "restoreContacts",
            min(len(restore_cc), pages) + math.ceil(len(restore_cc) / CC_BULK),
            1,
            f"CC: read the records (consent check): min({len(restore_cc)}, {pages}) GETs, whose listing also "
            "holds every CC record of the addresses, + 1 `add_list_memberships` activity POST per 500. GR: 1 "
            "batch for the addresses' GetResponse records (a complaint there blocks the restore).",
        ),
        (
            f"restore {len(restore_gr)} GetResponse contacts (by global id)",
            RESTORE,
            {"contacts": restore_gr},
            "restoreContacts",
            0,
            2,
            "GR: 1 batch to read the records (one unfiltered `get_contacts_deleted` answers the ids *and* "
            "every other record of the addresses) + 1 batch of `add_contact`. CC: 0, since CC records no "
            "reason, none of its records can block a restore.",
        ),
    ]

    rows = []
    all_at_minimum = True
    over: list[str] = []
    total_429 = 0
    for label, query, variables, field, cc_min, gr_min, derivation in operations:
        context.progress(f"amplification: {label}")
        await stack.reset_counts()
        body, _, _ = await graphql(context.client, stack.graphql_url, query, variables, headers=stack.headers)
        cc, gr = await stack.counts()
        total_429 += throttled(cc["operations"])
        cc_actual, gr_actual = cc["http_requests"], gr["http_requests"]
        at_minimum = cc_actual <= cc_min and gr_actual <= gr_min
        all_at_minimum &= at_minimum
        if not at_minimum:
            over.append(f"{label.split(' (')[0]}: {cc_actual + gr_actual} vs {cc_min + gr_min}")
        rows.append(
            [
                label,
                f"{cc_actual} / {cc_min}",
                f"{gr_actual} / {gr_min}",
                f"{cc_actual + gr_actual} / {cc_min + gr_min}",
                "yes" if at_minimum else f"**no** ({cc_actual + gr_actual - cc_min - gr_min:+d})",
                _outcome(body["data"][field]),
                derivation,
            ]
        )

    verdicts = [
        Verdict(
            "upstream requests at the minimum for every operation of section 1",
            all_at_minimum,
            f"{len(rows) - len(over)} of {len(rows)} operations at the minimum"
            + ("" if all_at_minimum else ": over it: " + "; ".join(over)),
        )
    ]
    body_md = "\n\n".join(
        [
            f"Account: {profile.large_contacts:,} contacts per emulator, {deleted_cc:,} deleted at Constant "
            f"Contact (so a full listing is {pages} GETs) and {records['counts'].get(GR, 0):,} at "
            "GetResponse. "
            "Each operation runs once, on a gateway whose listing snapshot was not reused (first pages "
            "only). "
            f"Constant Contact 429s during this section: {total_429}.",
            table(
                [
                    "operation",
                    "CC requests / min",
                    "GR requests / min",
                    "total / min",
                    "at minimum",
                    "answer",
                    "how the minimum is derived",
                ],
                rows,
            ),
        ]
    )
    return SectionResult("amplification", "1. Upstream amplification", body_md, verdicts)
