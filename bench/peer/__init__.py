"""Our gateway against the peer a team would deploy instead: GraphQL Mesh + Hive Gateway (issue 16).

``python -m bench.peer`` (``make bench-peer``) installs the peer from the npm registry at pinned
versions, composes its supergraph from Constant Contact's official Swagger file and hand-described
GetResponse JSON-RPC operations, runs the same workloads on both sides against the same emulators, and
writes the Markdown section into BENCHMARKS.md (below the kept-sections marker).

Modules: ``install`` (npm ci, mesh-compose), ``hive`` (the Hive Gateway process), ``workloads`` (each
side's query per workload, and what differs), ``measure`` (pooling, derived numbers, the targets),
``report`` (the Markdown), ``run`` (the order of a run).
"""

__all__: list[str] = []
