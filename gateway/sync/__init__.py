"""The sync that keeps the index of deleted contacts fresh (``gateway.core.index``).

- :mod:`~gateway.sync.runner`: one provider's sync: a backfill (first full read), a delta (what changed
  since the watermark, minus an overlap), a reconcile (a periodic full read that repairs what deltas
  missed, counting what it repaired);
- :mod:`~gateway.sync.worker`: the loop over every provider, run by one leader among the replicas
  (``gateway.store.leadership``); the others serve from the index it writes.

``gateway serve`` runs the worker in-process unless ``SYNC_IN_PROCESS=false``; ``gateway sync`` runs it
alone (``--once``: one pass, then exit).
"""

from .runner import ProviderSync, SyncKind, SyncProgress, SyncReport
from .worker import Leadership, SyncWorker

__all__ = ["Leadership", "ProviderSync", "SyncKind", "SyncProgress", "SyncReport", "SyncWorker"]
