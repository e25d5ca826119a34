"""At Constant Contact's documented 4 requests/second, concurrent GraphQL requests never get a 429."""

from __future__ import annotations

import asyncio

from .conftest import StackFactory

LOOKUP = "query($e: [String!]!) { deletedContactsByEmail(emails: $e) { email deletedContacts { provider } } }"


async def test_a_burst_of_lookups_stays_within_four_per_second(make_stack: StackFactory) -> None:
    async with make_stack(
        cc_overrides={"requests_per_second": 4.0}, constant_contact_rate_per_second=4.0
    ) as stack:
        truth = await stack.ground_truth()
        emails = [
            c["email_address"]["address"] for c in truth["cc"]["contacts"].values() if c.get("deleted_at")
        ][:12]
        await stack.reset_counts()
        bodies = await asyncio.gather(*(stack.graphql(LOOKUP, {"e": [email]}) for email in emails))

        for body in bodies:
            assert "errors" not in body, body
            (entry,) = body["data"]["deletedContactsByEmail"]
            assert "CONSTANT_CONTACT" in {c["provider"] for c in entry["deletedContacts"]}
        counts = (await stack.counts())["cc"]
        assert counts["operations"].get("throttled", 0) == 0
        # Counted, not timed: the spacing itself is pinned on a fake clock (tests/providers/...
        # test_limits_unit.py); how close to 4/s the whole stack comes is benchmark section 5.
        assert counts["http_requests"] >= 12
