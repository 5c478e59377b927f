"""Nudges remember the destinations no retry can reach apart from those reached.

They were kept with the reached ones (so that a retry skipped them), which let a retry count
a nudge nobody got as sent. Rows written before keep them mixed (their ``last_error`` names
them; one still due for a retry at the upgrade is retried as before).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place (SQLite adds a nullable column itself): no batch copy of the table.
    with op.batch_alter_table('nudges', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('given_up', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('nudges', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('given_up')
