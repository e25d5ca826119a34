"""A failure inside a batch is retrieved: nothing is left for asyncio to log as "never retrieved"."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Sequence
from typing import Any

import pytest

from gateway.core.gathering import gather_settled
from gateway.core.model import DeletedContact, Provider
from gateway.core.services import Services
from gateway.core.snapshots import MemorySnapshotStore
from gateway.schema.loaders import Loaders

from .fakes import FakePort


class BrokenPort(FakePort):
    """A port whose lookups by address fail with something that is not a GatewayError (a bug)."""

    async def find_deleted_by_email(self, emails: Sequence[str]) -> list[list[DeletedContact]]:
        await asyncio.sleep(0)
        raise RuntimeError(f"{self.provider.value} broke")


async def _unretrieved_after(run: Any) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        with pytest.raises(RuntimeError):
            await run()
        for _ in range(3):  # let every task finish, then collect what was dropped
            await asyncio.sleep(0)
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    return reported


async def test_every_provider_failure_of_a_lookup_by_address_is_retrieved() -> None:
    ports = {provider: BrokenPort(provider, []) for provider in Provider}
    loaders = Loaders(Services(ports=ports, snapshots=MemorySnapshotStore()))
    reported = await _unretrieved_after(lambda: loaders.load_by_email(["a@b.co", "c@d.co"]))
    assert reported == []


async def test_gather_settled_waits_for_all_and_raises_the_first_failure() -> None:
    finished: list[str] = []

    async def step(name: str, fail: bool) -> str:
        await asyncio.sleep(0)
        finished.append(name)
        if fail:
            raise RuntimeError(name)
        return name

    assert await gather_settled([step("a", False), step("b", False)]) == ["a", "b"]
    finished.clear()
    with pytest.raises(RuntimeError, match=r"^first$"):
        await gather_settled([step("ok", False), step("first", True), step("second", True)])
    assert sorted(finished) == ["first", "ok", "second"]  # nobody left running
    reported = await _unretrieved_after(
        lambda: gather_settled([step("x", True), step("y", True), step("z", True)])
    )
    assert reported == []
