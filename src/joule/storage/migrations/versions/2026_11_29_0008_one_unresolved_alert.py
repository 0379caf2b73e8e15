"""one unresolved alert per (rule, target), kept by a partial unique index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 09:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNRESOLVED = "state <> 'resolved'"


def upgrade() -> None:
    """Resolve the duplicates two evaluators may have raised at once, then forbid them.

    Of the unresolved alerts of one (rule, target) the first raised stays; the others are
    resolved as of when they were last seen (their history is kept, nothing is deleted).
    """
    op.execute(
        sa.text(
            f"UPDATE alerts SET state = 'resolved', resolved_at = last_seen_at "
            f"WHERE {_UNRESOLVED} AND id NOT IN ("
            f"SELECT MIN(id) FROM alerts WHERE {_UNRESOLVED} GROUP BY rule, target)"
        )
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(
            "ux_alerts_unresolved",
            ["rule", "target"],
            unique=True,
            sqlite_where=sa.text(_UNRESOLVED),
            postgresql_where=sa.text(_UNRESOLVED),
        )


def downgrade() -> None:
    """Drop the index (the resolved duplicates stay resolved)."""
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ux_alerts_unresolved")
