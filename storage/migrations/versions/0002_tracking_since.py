"""Remember when each channel's tracking last turned on (for catching up after downtime).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.columns import UTCDateTime

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tracked_channels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking_since', UTCDateTime(), nullable=True))
    # The last change of a tracked channel is the latest its tracking can have started: a
    # conservative start, so nothing from before tracking is ever taken for a request.
    op.execute("UPDATE tracked_channels SET tracking_since = updated_at WHERE tracking")


def downgrade() -> None:
    with op.batch_alter_table('tracked_channels', schema=None) as batch_op:
        batch_op.drop_column('tracking_since')
