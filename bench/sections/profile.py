"""Profiles: the gateway server sampled by pyinstrument while it answers one kind of query.

Three runs, each on the stack's own gateway process once its measurements are done (``bench.serve
--profile-control`` starts and stops pyinstrument over HTTP, so start-up is not in the profile), driven
over HTTP by the load generator at concurrency 1:

- *target*: ``deletedContacts(first: 50)`` on the standard account (the query whose overhead
  section 2 holds to its target);
- *small*: ``{ providers { provider healthy } }``, the gateway's fixed cost per request;
- *worst*: the first page at the cap on the large account (the slowest query measured in section 4).

The Markdown shows where the gateway's busy time went: by package, the functions with the most self
time, and our own functions by inclusive time; plus graphql-core's and Strawberry's cost per field
(graphql-core is split into parsing, validation and execution by module).
The profiler slows Python code down, so its shares are applied to the CPU per request the same query
costs without it (measured by sections 2, 3 and 4 from ``/proc``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.harness import Context, SectionResult, fmt, table
from bench.profiling import ProfileSummary, summarize_session
from bench.servers import Stack, graphql

__all__ = ["ProfiledRun", "profile_queries", "render"]

_FIELD_MACHINERY = ("graphql-core execution", "strawberry")


@dataclass(frozen=True)
class ProfiledRun:
    title: str
    description: str
    requests: int
    fields_per_request: int
    summary: ProfileSummary
    unprofiled_cpu_ms: float | None
    """The gateway's CPU per request for the same query without the profiler (measured elsewhere)."""


def count_fields(value: Any) -> int:
    """Fields completed to build ``value`` (one per key of every object in the response data)."""
    if isinstance(value, dict):
        return sum(1 + count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_fields(v) for v in value)
    return 0


async def profile_queries(
    context: Context,
    stack: Stack,
    *,
    title: str,
    description: str,
    query: str,
    variables: dict[str, Any],
    requests: int,
    unprofiled_cpu_ms: float | None = None,
) -> ProfiledRun:
    """Profile the stack's gateway (started with ``--profile-control``) over ``requests`` requests."""
    path = context.work_dir / f"{stack.name}-profile.pyisession"
    context.progress(f"profile: {title} ({requests} requests under pyinstrument)")
    url = stack.graphql_url
    body, _, _ = await graphql(
        context.client, url, query, variables, headers=stack.headers
    )  # warm, and count the fields
    control = stack.gateway.url + "/_bench/profile/"
    (await context.client.post(control + "start")).raise_for_status()
    try:
        await context.load(
            [
                {
                    "kind": "http",
                    "label": title,
                    "url": url,
                    "once": True,
                    "concurrency": 1,
                    "bodies": [{"query": query, "variables": variables}] * requests,
                }
            ],
            watch={"gateway": stack.gateway.pid},
        )
    finally:
        (await context.client.post(control + "stop", json={"path": str(path)})).raise_for_status()
    summary = summarize_session(path)
    return ProfiledRun(title, description, requests, count_fields(body["data"]), summary, unprofiled_cpu_ms)


def _percent(summary: ProfileSummary, seconds: float) -> str:
    return f"{summary.share(seconds):.1%}"


def _one(run: ProfiledRun) -> str:
    summary = run.summary
    per_request_ms = summary.busy_s * 1000 / run.requests
    # The profiler slows Python down; scale its shares to the CPU the same query costs without it.
    real_ms = run.unprofiled_cpu_ms or per_request_ms
    scale = f"{fmt(real_ms, 2)} ms measured without the profiler" if run.unprofiled_cpu_ms else "profiled"
    machinery = sum(summary.by_package.get(p, 0.0) for p in _FIELD_MACHINERY)
    machinery_ms = summary.share(machinery) * real_ms
    per_field_us = machinery_ms * 1000 / run.fields_per_request if run.fields_per_request else float("nan")
    ours = summary.by_package.get("gateway (ours)", 0.0)
    packages = table(
        ["package (self time)", "share of busy time", f"ms per request (of {scale})"],
        [
            [name, _percent(summary, s), fmt(summary.share(s) * real_ms, 2)]
            for name, s in summary.by_package.items()
        ],
    )
    top_self = table(
        ["function", "where", "package", "self time, share of busy"],
        [
            [f"`{f.function}`", f"`{f.location}`", f.package, _percent(summary, f.seconds)]
            for f in summary.top_self
        ],
    )
    top_ours = table(
        ["our function", "where", "inclusive time, share of busy"],
        [
            [f"`{f.function}`", f"`{f.location}`", _percent(summary, f.seconds)]
            for f in summary.top_ours_inclusive
        ],
    )
    return "\n\n".join(
        [
            f"### Profile: {run.title}",
            f"{run.description} {run.requests} requests; the server was sampled for "
            f"{fmt(summary.sampled_s, 2)} s, idle {fmt(summary.idle_s, 2)} s (the event loop waiting for "
            f"the emulators or the next request), busy {fmt(summary.busy_s, 2)} s: "
            f"{fmt(per_request_ms, 2)} ms per request under the profiler, which slows Python down; "
            + (
                f"**{fmt(real_ms, 2)} ms of gateway CPU per request without it**, to which the ms columns "
                "below are scaled."
                if run.unprofiled_cpu_ms
                else "the ms columns below are profiled times."
            ),
            f"Per-field machinery (graphql-core execution + Strawberry self time): {fmt(machinery_ms, 2)} ms "
            f"per request for {run.fields_per_request:,} response fields = "
            f"**{fmt(per_field_us, 1)} µs per field**. "
            f"Our own code (`gateway/`, self time): {_percent(summary, ours)} of busy time "
            f"({fmt(summary.share(ours) * real_ms, 2)} ms per request).",
            packages,
            top_self,
            top_ours,
            "<details><summary>pyinstrument call tree (library frames collapsed)</summary>\n\n```\n"
            + summary.text
            + "\n```\n</details>",
        ]
    )


def render(runs: list[ProfiledRun]) -> SectionResult:
    intro = (
        "Each profile samples a gateway server process with pyinstrument (`bench.serve --profile-control`, "
        '`async_mode="disabled"`, 1 ms interval) and driven over HTTP at concurrency 1, with 0 ms '
        "upstream latency. Shares are of the time the server was busy (idle event-loop time removed)."
    )
    return SectionResult("profile", "Profile", "\n\n".join([intro, *(_one(run) for run in runs)]))
