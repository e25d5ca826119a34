"""``python -m bench.run [--quick] [--output BENCHMARKS.md] [--only overhead]``: run the sections, write
the report.

Three stacks, each started, measured and stopped in turn (never two at once, to keep the 2 cores for
the stack being measured):

- *standard*: accounts of ``standard_contacts``, Constant Contact fast (10,000/s at the emulator and in
  the gateway): sections 2 (overhead) and 3 (throughput), and the profile of the 50-contact page;
- *large*: accounts of ``large_contacts`` (~10,000 deleted at each provider in the full run), also fast:
  section 4 (size), the profile of the worst case, then section 1 (amplification, which deletes and
  restores contacts, so it runs last on this stack);
- *limited*: standard accounts with Constant Contact at the documented 4/s everywhere: section 5.

Progress goes to stderr; the report to ``--output`` (default ``BENCHMARKS.md`` at the repository root).
``--only overhead`` starts only the standard stack and runs only section 2 (for A/B runs of one change,
e.g. the gateway's ``SPEED_LAYER`` setting, which the gateway process reads from the environment); its
report has the header and that section, and is written to stdout unless ``--output`` is given.

``--observability off|on`` sets the gateway's metrics, access log and tracing for the run: ``off`` has
none of them; ``on`` has ``/metrics``, JSON access lines (to the server log) and OpenTelemetry spans
exported over OTLP/HTTP to a sink process (``bench.otlp_sink``).  Without the flag the gateway runs
with its defaults (metrics and access log on, tracing off).  Comparing two ``--only overhead`` runs,
one each way, gives what observability adds to the 50-contact page.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.harness import ROOT, Context, SectionResult
from bench.otlp_sink import otlp_sink
from bench.profiles import FAST_DAILY_QUOTA, FAST_RATE, FULL, QUICK, Profile
from bench.queries import LIST_PAGE, PROVIDERS
from bench.report import KEPT_MARKER, SECTION_TITLES, render_report
from bench.sections import amplification, overhead, ratelimit, size, throughput
from bench.sections import profile as profiling_section
from bench.servers import Stack, start_stack

__all__ = ["main", "run_benchmarks"]

FAST_GATEWAY = {
    "constant_contact_rate_per_second": FAST_RATE,
    "constant_contact_daily_quota": FAST_DAILY_QUOTA,
}


def _cc(profile: Profile, contacts: int, *, fast: bool, deleted_fraction: float = 0.3) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "seed": profile.seed,
        "contacts": contacts,
        "deleted_fraction": deleted_fraction,
    }
    if fast:
        settings |= {"requests_per_second": FAST_RATE, "daily_quota": FAST_DAILY_QUOTA}
    return settings


def _gr(profile: Profile, contacts: int, deleted_fraction: float = 0.3) -> dict[str, Any]:
    return {"seed": profile.seed, "contacts": contacts, "deleted_fraction": deleted_fraction}


def _standard_stack(
    profile: Profile, work_dir: Path, client: httpx.AsyncClient, observability: dict[str, Any] | None = None
) -> contextlib.AbstractAsyncContextManager[Stack]:
    """The stack of sections 2 and 3: the standard account, emulators answering at once."""
    return start_stack(
        "standard",
        cc_settings=_cc(profile, profile.standard_contacts, fast=True),
        gr_settings=_gr(profile, profile.standard_contacts),
        gateway_overrides={**FAST_GATEWAY, **(observability or {})},
        log_dir=work_dir,
        client=client,
    )


OBSERVABILITY_OFF = {"metrics": "off", "access_log": False, "otel_exporter_otlp_endpoint": None}
OBSERVABILITY_ON = {"metrics": "open", "access_log": True, "log_format": "json", "log_level": "INFO"}


async def run_overhead_only(
    profile: Profile, work_dir: Path, observability: str | None = None
) -> list[SectionResult]:
    """Section 2 alone, on the standard stack; ``observability`` ``on`` or ``off`` (see the module doc)."""
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
    async with (
        httpx.AsyncClient(timeout=httpx.Timeout(300.0), limits=limits) as client,
        contextlib.AsyncExitStack() as resources,
    ):
        context = Context(profile, client, work_dir)
        context.progress(f"profile {profile.name}, section 2 only; logs and load specs in {work_dir}")
        settings: dict[str, Any] | None = None
        if observability == "off":
            settings = OBSERVABILITY_OFF
        elif observability == "on":
            sink = await resources.enter_async_context(otlp_sink(work_dir))
            settings = {**OBSERVABILITY_ON, "otel_exporter_otlp_endpoint": sink}
        if settings is not None:
            context.progress(f"gateway observability {observability}: {settings}")
        async with _standard_stack(profile, work_dir, client, settings) as stack:
            return [await overhead.run(context, stack)]


async def run_benchmarks(profile: Profile, work_dir: Path) -> list[SectionResult]:
    results: dict[str, SectionResult] = {}
    runs: list[profiling_section.ProfiledRun] = []
    limits = httpx.Limits(max_connections=20, max_keepalive_connections=10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(300.0), limits=limits) as client:
        context = Context(profile, client, work_dir)
        context.progress(f"profile {profile.name}; logs and load specs in {work_dir}")

        context.progress("standard stack: starting")
        async with _standard_stack(profile, work_dir, client) as stack:
            results["overhead"] = await overhead.run(context, stack)
            results["throughput"] = await throughput.run(context, stack)
            runs.append(
                await profiling_section.profile_queries(
                    context,
                    stack,
                    title="deletedContacts(first: 50), standard account",
                    description=f"`LIST_PAGE` with `first: 50` on the standard account "
                    f"({profile.standard_contacts} contacts per emulator).",
                    query=LIST_PAGE,
                    variables={"first": 50},
                    requests=profile.profile_requests_target,
                    unprofiled_cpu_ms=results["overhead"].facts.get("page50_cpu_ms"),
                )
            )
            runs.append(
                await profiling_section.profile_queries(
                    context,
                    stack,
                    title="the small query of section 3",
                    description=f"`{PROVIDERS}`: no provider call, only the gateway's fixed cost.",
                    query=PROVIDERS,
                    variables={},
                    requests=profile.profile_requests_small,
                    unprofiled_cpu_ms=results["throughput"].facts.get("providers_cpu_ms"),
                )
            )

        context.progress("large stack: starting (seeding the large accounts)")
        async with start_stack(
            "large",
            cc_settings=_cc(
                profile, profile.large_contacts, fast=True, deleted_fraction=profile.large_deleted_fraction
            ),
            gr_settings=_gr(profile, profile.large_contacts, profile.large_deleted_fraction),
            gateway_overrides=FAST_GATEWAY,
            log_dir=work_dir,
            client=client,
        ) as stack:
            cap = size.page_cap(stack)
            results["size"] = await size.run(context, stack)
            runs.append(
                await profiling_section.profile_queries(
                    context,
                    stack,
                    title=f"first page of {cap}, large account",
                    description=f"`LIST_PAGE` with `first: {cap}` (the cap), no cursor, on the large account "
                    f"({profile.large_contacts:,} contacts per emulator): every request reads, merges and "
                    "snapshots every deleted contact of both providers.",
                    query=LIST_PAGE,
                    variables={"first": cap},
                    requests=profile.profile_requests_worst,
                    unprofiled_cpu_ms=results["size"].facts.get("first_page_cap_cpu_ms"),
                )
            )
            results["amplification"] = await amplification.run(context, stack, cap=cap)

        context.progress("limited stack (Constant Contact at 4/s): starting")
        async with start_stack(
            "limited",
            cc_settings=_cc(profile, profile.standard_contacts, fast=False),
            gr_settings=_gr(profile, profile.standard_contacts),
            gateway_overrides={},
            log_dir=work_dir,
            client=client,
        ) as stack:
            results["ratelimit"] = await ratelimit.run(context, stack)

    results["profile"] = profiling_section.render(runs)
    order = ("amplification", "overhead", "throughput", "size", "ratelimit", "profile")
    ordered = [results[key] for key in order]
    assert tuple(s.title for s in ordered) == SECTION_TITLES
    return ordered


def kept_sections(path: Path) -> str:
    """The part of an existing report from ``KEPT_MARKER`` on (empty when there is none)."""
    try:
        previous = path.read_text()
    except FileNotFoundError:
        return ""
    at = previous.find(KEPT_MARKER)
    return "" if at < 0 else "\n" + previous[at:]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke sizes: every section in well under 60 s")
    parser.add_argument("--output", type=Path, help="default: BENCHMARKS.md; stdout with --only")
    parser.add_argument("--only", choices=["overhead"], help="run only this section (stdout report)")
    parser.add_argument("--keep-logs", action="store_true", help="keep the server logs and load specs")
    parser.add_argument(
        "--observability",
        choices=["off", "on"],
        help="with --only overhead: the gateway without metrics, access log and tracing, or with all three",
    )
    args = parser.parse_args(argv)
    if args.observability and args.only != "overhead":
        parser.error("--observability needs --only overhead")
    profile = QUICK if args.quick else FULL
    command = shlex.join(["python", "-m", "bench.run", *(argv if argv is not None else sys.argv[1:])])
    work_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    started_at = datetime.now(UTC)
    started = time.monotonic()
    try:
        if args.only == "overhead":
            sections = asyncio.run(run_overhead_only(profile, work_dir, args.observability))
        else:
            sections = asyncio.run(run_benchmarks(profile, work_dir))
    except BaseException:
        print(f"[bench] failed; server logs are in {work_dir}", file=sys.stderr)
        raise
    elapsed = time.monotonic() - started
    report = render_report(sections, profile=profile, command=command, started=started_at, elapsed_s=elapsed)
    if args.output is None and args.only:
        sys.stdout.write(report)
    else:
        output = args.output or ROOT / "BENCHMARKS.md"
        output.write_text(report + kept_sections(output))
    if not args.keep_logs:
        shutil.rmtree(work_dir, ignore_errors=True)
    print(f"[bench] done in {elapsed:.0f} s", file=sys.stderr)
    for verdict in (v for s in sections for v in s.verdicts):
        print(
            f"[bench] {'met' if verdict.met else 'NOT MET'}: {verdict.target}: {verdict.detail}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
