"""Section 3: requests per second for a small query, and what the parse and validation caches buy.

``{ providers { provider healthy } }`` touches no provider (health comes from the gateway's own
breakers and budgets), so it measures the gateway's fixed cost per request.  Four runs at the same
concurrency:

- ``GET /healthz``: a plain Starlette route, the ceiling of this server plus load generator on this box;
- the same query text every time: the parse and validation caches hit;
- a new text every request (its own operation name): both caches miss, as for clients that build
  query strings dynamically;
- the same text against a second gateway process whose schema has no caches (``bench.serve
  --no-caches``; the gateway itself has no setting for this).
"""

from __future__ import annotations

from typing import Any

from bench.harness import Context, LoadResult, SectionResult, fmt, table
from bench.queries import PROVIDERS
from bench.servers import Stack, start_server

__all__ = ["run"]


async def run(context: Context, stack: Stack) -> SectionResult:
    profile = context.profile
    context.progress("throughput: starting a gateway without parse/validation caches")
    uncached = await start_server(
        f"{stack.name}-gateway-nocache",
        "gateway",
        stack.gateway_settings,
        log_dir=context.work_dir,
        client=context.client,
        extra_args=("--no-caches",),
    )
    stack.extra.append(uncached)
    timing: dict[str, Any] = {
        "concurrency": profile.throughput_concurrency,
        "warmup": profile.throughput_warmup,
        "min_samples": profile.min_samples,
        "duration": profile.throughput_duration,
        "kind": "http",
    }
    body = {"query": PROVIDERS}
    variants = [
        (
            "`GET /healthz` (no GraphQL)",
            stack.gateway.pid,
            {
                **timing,
                "label": "healthz",
                "url": stack.gateway.url + "/healthz",
                "method": "GET",
                "expect": "status",
                "bodies": [{}],
            },
        ),
        (
            "same query text (caches hit)",
            stack.gateway.pid,
            {
                **timing,
                "label": "identical",
                "url": stack.graphql_url,
                "headers": stack.headers,
                "bodies": [body],
            },
        ),
        (
            "new text every request (caches miss)",
            stack.gateway.pid,
            {
                **timing,
                "label": "distinct",
                "url": stack.graphql_url,
                "headers": stack.headers,
                "bodies": [body],
                "distinct": True,
            },
        ),
        (
            "same text, gateway built without the caches",
            uncached.pid,
            {
                **timing,
                "label": "nocache",
                "url": uncached.url + "/graphql",
                "headers": stack.headers,
                "bodies": [body],
            },
        ),
    ]
    results: list[LoadResult] = []
    for label, pid, run_spec in variants:
        context.progress(f"throughput: {label}")
        (result,) = await context.load([run_spec], watch={"gateway": pid})
        results.append(result)
    await uncached.stop()
    stack.extra.remove(uncached)

    rows = [
        [
            label,
            fmt(result.throughput_rps, 0),
            fmt(result.latency.p50, 2),
            fmt(result.latency.p99, 2),
            str(result.errors),
            fmt(result.cores("gateway"), 2),
            fmt(result.cores("loadgen"), 2),
        ]
        for (label, _, _), result in zip(variants, results, strict=True)
    ]
    healthz, identical, distinct, uncached_result = results
    notes = [
        f"Query: `{PROVIDERS}` at concurrency {profile.throughput_concurrency}, "
        f"{profile.throughput_warmup:g} s warm-up then {profile.throughput_duration:g} s measured, one "
        "uvicorn worker. The load generator (Python, one raw keep-alive HTTP/1.1 connection per "
        "worker) runs on the same cores: its CPU column shows how much of the box it took.",
        table(
            ["variant", "req/s", "p50 ms", "p99 ms", "errors", "gateway CPU (cores)", "load gen CPU (cores)"],
            rows,
        ),
        f"Cache effect: identical text serves {fmt(identical.throughput_rps / distinct.throughput_rps, 2)}x "
        "the requests of new texts, and "
        f"{fmt(identical.throughput_rps / uncached_result.throughput_rps, 2)}x "
        "those of a gateway built without the caches. `/healthz` shows the ceiling of uvicorn plus this "
        f"load generator here ({fmt(healthz.throughput_rps, 0)} req/s).",
    ]
    errors = [r for r in results if r.errors]
    if errors:
        notes.append("Errors: " + "; ".join(f"{r.label}: {r.error_samples[:1]}" for r in errors))
    cpu_ms = identical.cpu_s.get("gateway", 0.0) * 1000 / max(identical.completed, 1)
    return SectionResult(
        "throughput", "3. Throughput", "\n\n".join(notes), facts={"providers_cpu_ms": cpu_ms}
    )
