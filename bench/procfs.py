"""What ``/proc`` says about a process: CPU seconds used, resident memory now and at its peak.

The peak (``VmHWM``) is a high-water mark over the process's life; writing ``5`` to
``/proc/<pid>/clear_refs`` resets it to the current RSS (Linux 4.0+, own processes only), so each
measurement can report its own peak from one long-lived gateway process.
"""

from __future__ import annotations

import os

__all__ = ["cpu_seconds", "memory_kib", "reset_peak_memory"]

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name (field 2) may hold spaces; everything after its closing parenthesis is fixed.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS


def memory_kib(pid: int) -> dict[str, int]:
    """``{"rss": VmRSS, "peak": VmHWM}`` in KiB."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                found["rss" if name == "VmRSS" else "peak"] = int(value.split()[0])
    return found


def reset_peak_memory(pid: int) -> bool:
    """Reset ``VmHWM`` to the current RSS; False where the kernel does not allow it."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True
