"""``gateway sync``: the index's sync as a process of its own (``--once``: one pass, then exit).

``gateway serve`` runs the same loop in-process unless ``SYNC_IN_PROCESS=false``; a deployment that
separates them runs its replicas with that setting and one (or more: one leads) ``gateway sync``.
Progress of a backfill goes to stderr (a line every ``--progress-seconds``); the summary of a pass,
one line per run, to stdout.  ``--once`` then delivers the webhooks due (new events queued, each
delivery due attempted once; a failure waits for a later run) before it stops leading.  Exit status:
0 when every provider synced, 1 when one failed (its error is on stderr and in its sync state), 3
when another process leads the sync and ``--once`` could not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time

from .config import Settings
from .errors import GatewayError
from .sync import ProviderSync, SyncReport
from .sync.progress import ProgressLines

__all__ = ["add_sync_command"]

NOT_LEADER = 3


def _summary(report: SyncReport) -> str:
    changes = report.changes
    line = (
        f"{report.provider.value} {report.kind.value}: {report.read} read with {report.requests} requests "
        f"in {report.seconds:.1f} s; {changes.inserted} inserted, {changes.updated} updated, "
        f"{changes.removed} removed"
    )
    return line + (f", {report.repaired} repaired" if report.repaired else "")


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from .bootstrap import (
        build_services,
        build_sync_worker,
        deliver_webhooks_once,
        open_database,
        run_sync_with_webhooks,
    )

    database = await open_database(settings)
    failures: list[str] = []

    def failed(sync: ProviderSync, error: GatewayError) -> None:
        failures.append(sync.provider.value)

    try:
        services = build_services(settings, database=database)
        try:
            worker = build_sync_worker(
                settings,
                services,
                database,
                on_report=lambda report: print(_summary(report), flush=True),
                on_failure=failed,
                on_progress=ProgressLines(args.progress_seconds, lambda line: print(line, file=sys.stderr)),
            )
            if worker is None:
                why = (
                    "the index is off (INDEX=false)"
                    if services.index is None
                    else "no provider is configured"
                )
                print(f"gateway sync: {why}", file=sys.stderr)
                return 2
            if not args.once:
                await run_sync_with_webhooks(settings, services, database, worker)  # webhooks while leading
                return 0
            deadline = time.monotonic() + args.wait
            while await worker.run_once() is None:
                if time.monotonic() >= deadline:
                    print("gateway sync: another process leads the sync", file=sys.stderr)
                    return NOT_LEADER
                await asyncio.sleep(min(1.0, args.wait))
            try:
                # Still leading: this process is the one dispatcher, as the loop's leader would be.
                sent = await deliver_webhooks_once(settings, services, database)
            finally:
                await worker.leadership.release()
            if sent.queued or sent.delivered or sent.retried or sent.dead:
                print(
                    f"webhooks: {sent.queued} queued, {sent.delivered} delivered, {sent.retried} to retry, "
                    f"{sent.dead} dead-lettered",
                    flush=True,
                )
            return 1 if failures else 0
        finally:
            await services.aclose()
    finally:
        await database.aclose()


def _command(args: argparse.Namespace) -> int:
    from .observability.logs import configure_logging

    try:
        settings = Settings()
    except Exception as error:  # pydantic's ValidationError: one line, not a traceback
        print(f"gateway sync: invalid settings: {error}".splitlines()[0], file=sys.stderr)
        return 2
    configure_logging(settings)

    async def main() -> int:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        assert task is not None
        for stop in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(stop, task.cancel)
        try:
            return await _run(args, settings)
        except asyncio.CancelledError:
            return 0

    try:
        return asyncio.run(main())
    except GatewayError as error:
        print(f"gateway sync: {error.message} ({error.code})", file=sys.stderr)
        return 1


def add_sync_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = commands.add_parser(
        "sync", help="keep the index of deleted contacts in step with the providers (one leader at a time)"
    )
    sync.add_argument(
        "--once", action="store_true", help="one pass (backfill, delta or reconcile), then exit"
    )
    sync.add_argument(
        "--wait", type=float, default=0.0, help="--once: seconds to wait for another leader to stop"
    )
    sync.add_argument("--progress-seconds", type=float, default=5.0, help="seconds between progress lines")
    sync.set_defaults(run=_command)
