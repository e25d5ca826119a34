"""``python -m bench.emulator_seed --contacts 1000000``: how long each emulator takes to seed an account.

Each emulator is seeded in a fresh child process of its own (``--child``), as ``gateway emulate``
would seed it: the child imports the emulator, notes its resident memory, builds the app
(``create_app``: seeding plus the store's indexes) and reports the seconds that took, its resident
memory after, and its peak (``VmHWM``, so transient lists of the build count).  The parent prints one
line per emulator.  Nothing is asserted: the emulators' design goal (a million contacts in under a
minute on two cores) is printed beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence

from bench.procfs import memory_kib

__all__ = ["main", "seed_in_child"]

EMULATORS = ("constant-contact", "getresponse")
TARGET_SECONDS = 60.0


def _seed_here(emulator: str, contacts: int, deleted_fraction: float, seed: int) -> dict[str, float]:
    """Seed one emulator in this process; seconds and memory (MiB)."""
    if emulator == "constant-contact":
        from emulators.constant_contact import ConstantContactEmulatorSettings
        from emulators.constant_contact import create_app as create_cc

        cc_settings = ConstantContactEmulatorSettings(
            seed=seed, contacts=contacts, deleted_fraction=deleted_fraction
        )
        before = memory_kib(os.getpid())["rss"]
        started = time.perf_counter()
        app = create_cc(cc_settings)
        deleted = app.state.store.category_count("deleted")
    else:
        from emulators.getresponse import GetResponseEmulatorSettings
        from emulators.getresponse import create_app as create_gr

        gr_settings = GetResponseEmulatorSettings(
            seed=seed, contacts=contacts, deleted_fraction=deleted_fraction
        )
        before = memory_kib(os.getpid())["rss"]
        started = time.perf_counter()
        app = create_gr(gr_settings)
        deleted = sum(1 for _ in app.state.store.latest_deletions())
    seconds = time.perf_counter() - started
    memory = memory_kib(os.getpid())
    return {
        "seconds": seconds,
        "deleted": deleted,
        "rss_before_mib": before / 1024,
        "rss_after_mib": memory["rss"] / 1024,
        "peak_mib": memory["peak"] / 1024,
    }


def seed_in_child(emulator: str, contacts: int, deleted_fraction: float, seed: int) -> dict[str, float]:
    """``_seed_here`` in a fresh interpreter, so each emulator's memory is its own."""
    command = [
        sys.executable, "-m", "bench.emulator_seed", "--child", emulator, "--contacts", str(contacts),
        "--deleted-fraction", str(deleted_fraction), "--seed", str(seed),
    ]  # fmt: skip
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.emulator_seed", description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--deleted-fraction", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--child", choices=EMULATORS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        sys.stdout.write(json.dumps(_seed_here(args.child, args.contacts, args.deleted_fraction, args.seed)))
        return 0
    sys.stdout.write(
        f"Seeding {args.contacts:,} contacts per emulator (deleted_fraction={args.deleted_fraction}, "
        f"seed={args.seed}); target < {TARGET_SECONDS:g} s each.\n"
    )
    for emulator in EMULATORS:
        found = seed_in_child(emulator, args.contacts, args.deleted_fraction, args.seed)
        sys.stdout.write(
            f"{emulator:17} {found['seconds']:6.1f} s  deleted listed {int(found['deleted']):>9,}  "
            f"RSS {found['rss_before_mib']:5.0f} -> {found['rss_after_mib']:5.0f} MiB  "
            f"peak {found['peak_mib']:5.0f} MiB\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
