"""At Constant Contact's documented 4 requests/second, concurrent GraphQL requests never get a 429."""

from __future__ import annotations

import asyncio
import time

from .conftest import in_process_stack

LOOKUP = "query($e: [String!]!) { deletedContactsByEmail(emails: $e) { email deletedContacts { provider } } }"


async def test_a_burst_of_lookups_stays_within_four_per_second() -> None:
    async with in_process_stack(
        cc_overrides={"requests_per_second": 4.0}, constant_contact_rate_per_second=4.0
    ) as stack:
        truth = await stack.ground_truth()
        emails = [
            c["email_address"]["address"] for c in truth["cc"]["contacts"].values() if c.get("deleted_at")
        ][:12]
        await stack.reset_counts()
        started = time.monotonic()
        bodies = await asyncio.gather(*(stack.graphql(LOOKUP, {"e": [email]}) for email in emails))
        elapsed = time.monotonic() - started

        for body in bodies:
            assert "errors" not in body, body
            (entry,) = body["data"]["deletedContactsByEmail"]
            assert "CONSTANT_CONTACT" in {c["provider"] for c in entry["deletedContacts"]}
        counts = (await stack.counts())["cc"]
        assert counts["operations"].get("throttled", 0) == 0
        calls = counts["http_requests"]
        assert calls >= 12
        # One call may go at once, the rest are spaced 250 ms apart: the minimum is (calls - 1) / 4 s.
        assert (calls - 1) / 4 - 0.1 <= elapsed <= (calls - 1) / 4 + 1.5
