"""The benchmark harness: ``make bench`` (``python -m bench.run``) writes ``BENCHMARKS.md``.

Every part runs as it would in production: each provider emulator and the gateway is its own process
serving real HTTP under uvicorn on a loopback port (``bench.serve``), and the load comes from yet
another process (``bench.load``), so the gateway's numbers include HTTP parsing, JSON encoding and the
kernel's loopback, and the load generator never shares an interpreter with what it measures.

Modules: ``profiles`` (the full and ``--quick`` sizes), ``serve`` (the process launcher),
``servers`` (starting and stopping stacks, emulator control plane), ``load`` (the load generator),
``stats`` (percentiles), ``procfs`` (CPU and memory from ``/proc``), ``machine`` (what ran it),
``queries`` (the GraphQL texts), ``sections`` (one module per report section), ``profiling``
(reading a pyinstrument session), ``report`` (Markdown) and ``run`` (the command).
"""

__all__: list[str] = []
