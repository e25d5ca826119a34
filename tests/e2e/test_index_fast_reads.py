"""Index pages end to end with the read path's optimisations on (decoded-contact memo, remembered
statements, plain SQLite connections, SQLite reads on threads) and off: the same answers, the same
as the providers' own, also after contacts change between syncs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import StackFactory
from .index_support import CONTACT_FIELDS, cc_delete, gr_delete, index_stack, walk

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"])

FAST: dict[str, Any] = {
    "index_memo_contacts": 5_000,
    "index_memo_statements": 1_000,
    "database_plain_sqlite_selects": True,
    "database_sqlite_select_threads": 2,
}
PLAIN: dict[str, Any] = {
    "index_memo_contacts": 0,
    "index_memo_statements": 0,
    "database_plain_sqlite_selects": False,
    "database_sqlite_select_threads": 0,
}
CC_ONLY = {"providers": ["CONSTANT_CONTACT"]}


async def _answers(make_stack: StackFactory, backend: str, directory: Path, settings: dict[str, Any]) -> Any:
    async with index_stack(make_stack, backend, directory, **settings) as index:
        await index.sync()
        pages: list[Any] = []
        for _ in range(2):  # the second walk reads what the first one decoded
            pages.append(await walk(index, "INDEXED", 37, fields=CONTACT_FIELDS))
            pages.append(await walk(index, "INDEXED", 50, filter=CC_ONLY, fields=CONTACT_FIELDS))
        assert pages[0] == pages[2] == await walk(index, "LIVE", 200, fields=CONTACT_FIELDS)
        assert pages[1] == pages[3]
        truth = await index.stack.ground_truth()
        active_cc = [c for c in truth["cc"]["contacts"].values() if c["status"] != "deleted"]
        await cc_delete(index.stack, active_cc[0]["contact_id"])
        await gr_delete(index.stack, next(iter(truth["gr"]["contacts"])))
        await index.sync()
        changed = await walk(index, "INDEXED", 37, fields=CONTACT_FIELDS)
        assert changed == await walk(index, "LIVE", 200, fields=CONTACT_FIELDS)
        return pages[0], pages[1]


async def test_fast_and_plain_index_reads_answer_alike(
    make_stack: StackFactory, backend: str, tmp_path: Path
) -> None:
    fast = await _answers(make_stack, backend, tmp_path / "fast", FAST)
    plain = await _answers(make_stack, backend, tmp_path / "plain", PLAIN)
    assert fast == plain
