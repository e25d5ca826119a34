"""Reading a pyinstrument session of the gateway server: where its busy time went.

The gateway runs under ``Profiler(async_mode="disabled")``, which samples the server's main thread
whatever it is doing, so the session also holds the time the event loop sat idle waiting for the
emulators or the next request.  That idle time is set apart (``idle``); the shares are of the rest,
the time the gateway was busy.

Self time of a frame is the time sampled in the frame itself (C functions it called that pyinstrument
shows as ``<built-in>`` frames are charged to the caller's package).  Inclusive time of a function
counts each stack once, however often the function recurs in it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["FunctionTime", "ProfileSummary", "package_of", "summarize_session"]

_PACKAGES = (
    ("/site-packages/strawberry/", "strawberry"),
    ("/site-packages/graphql/validation/", "graphql-core validation"),
    ("/site-packages/graphql/language/visitor.py", "graphql-core validation"),
    ("/site-packages/graphql/language/", "graphql-core parsing"),
    ("/site-packages/graphql/", "graphql-core execution"),
    ("/site-packages/httpx/", "httpx/httpcore (upstream calls)"),
    ("/site-packages/httpcore/", "httpx/httpcore (upstream calls)"),
    ("/site-packages/h11/", "httpx/httpcore (upstream calls)"),
    ("/site-packages/anyio/", "httpx/httpcore (upstream calls)"),
    ("/site-packages/uvicorn/", "uvicorn"),
    ("/site-packages/starlette/", "starlette"),
    ("/site-packages/aiodataloader", "aiodataloader"),
    ("/site-packages/pydantic", "pydantic"),
    ("/site-packages/pyinstrument/", "profiler"),
    ("/asyncio/", "asyncio"),
    ("uvloop", "asyncio"),
    ("/gateway/", "gateway (ours)"),
    ("/bench/", "bench launcher"),
)
_IDLE_FUNCTIONS = frozenset({"run_until_complete", "run_forever", "select", "poll", "epoll", "sleep"})
_OURS = "gateway (ours)"


def _is_idle(frame: Any) -> bool:
    """Time the event loop spent waiting: with uvloop the wait happens in C under ``Runner.run``."""
    path = frame.file_path or ""
    if path.endswith("asyncio/runners.py"):
        return True
    if path.endswith("asyncio/base_events.py") and frame.function in _IDLE_FUNCTIONS | {"_run_once"}:
        return True
    return package_of(path) is None and frame.function in _IDLE_FUNCTIONS


def package_of(file_path: str | None) -> str | None:
    """The package a source file belongs to; None for C functions (``<built-in>``)."""
    if not file_path or file_path.startswith("<"):
        return None
    for marker, name in _PACKAGES:
        if marker in file_path:
            return name
    return "other (stdlib, ...)"


@dataclass(frozen=True, slots=True)
class FunctionTime:
    function: str
    location: str
    package: str
    seconds: float


@dataclass(frozen=True)
class ProfileSummary:
    sampled_s: float
    idle_s: float
    by_package: dict[str, float]
    top_self: list[FunctionTime]
    top_ours_inclusive: list[FunctionTime]
    text: str

    @property
    def busy_s(self) -> float:
        return max(self.sampled_s - self.idle_s, 1e-9)

    def share(self, seconds: float) -> float:
        return seconds / self.busy_s


def _location(frame: Any) -> str:
    path = frame.file_path or ""
    for marker in ("/site-packages/", "/work/main/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{frame.line_no}" if frame.line_no else path or "<built-in>"


def summarize_session(path: Path, *, top: int = 15, text_lines: int = 80) -> ProfileSummary:
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    session = Session.load(str(path))
    root = session.root_frame()
    if root is None:
        return ProfileSummary(0.0, 0.0, {}, [], [], "")
    self_time: dict[tuple[str, str, str], float] = defaultdict(float)
    inclusive: dict[tuple[str, str, str], float] = defaultdict(float)
    by_package: dict[str, float] = defaultdict(float)
    idle = 0.0

    def visit(frame: Any, inherited: str, on_path: frozenset[tuple[str, str, str]]) -> None:
        nonlocal idle
        package = package_of(frame.file_path) or inherited
        key = (frame.function, _location(frame), package)
        children = [c for c in frame.children if not c.is_synthetic]
        own = frame.time - sum(c.time for c in children)
        if _is_idle(frame):
            idle += own
        else:
            self_time[key] += own
            by_package[package] += own
        if key not in on_path:
            inclusive[key] += frame.time
        for child in children:
            visit(child, package, on_path | {key})

    visit(root, "other (stdlib, ...)", frozenset())
    ranked = sorted(self_time.items(), key=lambda item: item[1], reverse=True)[:top]
    ours = sorted(
        ((k, v) for k, v in inclusive.items() if k[2] == _OURS), key=lambda item: item[1], reverse=True
    )[:top]
    renderer = ConsoleRenderer(unicode=False, color=False, time="percent_of_total")
    text = "\n".join(renderer.render(session).splitlines()[:text_lines])
    return ProfileSummary(
        sampled_s=root.time,
        idle_s=idle,
        by_package=dict(sorted(by_package.items(), key=lambda item: item[1], reverse=True)),
        top_self=[FunctionTime(k[0], k[1], k[2], v) for k, v in ranked],
        top_ours_inclusive=[FunctionTime(k[0], k[1], k[2], v) for k, v in ours],
        text=text,
    )
