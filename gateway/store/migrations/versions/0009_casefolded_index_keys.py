"""The index's text keys casefolded (they were lower-cased), as GetResponse compares text.

``str.lower`` and ``str.casefold`` differ for a few letters (German sharp s, ligatures, the Turkish
dotted capital I, final sigma...), and casefolding a lower-cased text gives the text's own folding,
so each key is refolded from itself; only the rows whose key changes are written.  Whether a
GetResponse deletion is superseded may change for an address that only now folds equal to an active
one: the next reconcile recomputes it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, its primary key columns, the key columns to refold)
_KEYS = (
    ("deleted_contacts", ("provider", "contact_id"), ("email_key", "name_key")),
    ("getresponse_memberships", ("contact_id",), ("email_key",)),
    ("getresponse_campaigns", ("id",), ("name_key",)),
    ("getresponse_messages", ("id",), ("name_key",)),
)


def upgrade() -> None:
    bind = op.get_bind()
    for table_name, primary_key, keys in _KEYS:
        table = sa.table(table_name, *(sa.column(name) for name in (*primary_key, *keys)))
        changed: list[dict[str, str | None]] = []
        rows = bind.execute(sa.select(*table.c)).mappings()
        for row in rows:
            folded = {key: row[key].casefold() if row[key] is not None else None for key in keys}
            if any(folded[key] != row[key] for key in keys):
                keys_now = {f"new_{key}": value for key, value in folded.items()}
                changed.append({**{f"pk_{name}": row[name] for name in primary_key}, **keys_now})
        if not changed:
            continue
        statement = (
            table.update()
            .where(*(table.c[name] == sa.bindparam(f"pk_{name}") for name in primary_key))
            .values({key: sa.bindparam(f"new_{key}") for key in keys})
        )
        bind.execute(statement, changed)


def downgrade() -> None:
    # Lower-cased keys cannot be told back from casefolded ones, and the casefolded keys only ever
    # match more: the older code reads them as they are.
    pass
