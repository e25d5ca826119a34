"""The gateway's own database: service keys, idempotency records, the audit trail and the synced index.

- :mod:`~gateway.store.database`: the async engine (embedded SQLite by default, PostgreSQL for replicas)
- :mod:`~gateway.store.models`: the tables as typed SQLAlchemy models
- :mod:`~gateway.store.migrator`: Alembic, configured in code, over the migrations in ``migrations/``
- :mod:`~gateway.store.keys`: service keys (``gateway keys ...``) and their verification
- :mod:`~gateway.store.idempotency`: idempotency keys, per principal, durable and shared
- :mod:`~gateway.store.audit`: the append-only audit trail of every mutation
- :mod:`~gateway.store.persisted_queries`: documents registered by automatic persisted queries
- :mod:`~gateway.store.index`: the synced index of deleted contacts (and the sync's state)
- :mod:`~gateway.store.leadership`: one sync leader among replicas

These modules implement the Protocols of ``gateway.core.store_ports`` and ``gateway.core.index``;
nothing in core imports them.
"""

from .audit import DatabaseAuditTrail
from .database import Database, database_url
from .idempotency import DatabaseIdempotencyStore
from .index import DatabaseIndex
from .keys import IssuedKey, KeyStore, ServiceKey
from .leadership import AdvisoryLockLeadership, Leadership, LeaseLeadership, leadership
from .migrator import current_revision, ensure_schema, head_revision, upgrade
from .persisted_queries import DatabasePersistedDocuments

__all__ = [
    "AdvisoryLockLeadership",
    "Database",
    "DatabaseAuditTrail",
    "DatabaseIdempotencyStore",
    "DatabaseIndex",
    "DatabasePersistedDocuments",
    "IssuedKey",
    "KeyStore",
    "Leadership",
    "LeaseLeadership",
    "ServiceKey",
    "current_revision",
    "database_url",
    "ensure_schema",
    "head_revision",
    "leadership",
    "upgrade",
]
