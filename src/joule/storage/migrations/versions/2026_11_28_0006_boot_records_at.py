"""boot records by time

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 17:45:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The boot-loop rule's window read uses an index instead of scanning every boot ever."""
    with op.batch_alter_table("boot_records", schema=None) as batch_op:
        batch_op.create_index("ix_boot_records_at", ["at"], unique=False)


def downgrade() -> None:
    """Drop the index."""
    with op.batch_alter_table("boot_records", schema=None) as batch_op:
        batch_op.drop_index("ix_boot_records_at")
