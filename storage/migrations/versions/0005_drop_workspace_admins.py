"""Workspaces forget their admins column: admins come from settings and Slack's users.info.

Altered in place (SQLite 3.35+ drops and adds columns itself): a batch copy of the table
would drop the old one, and with foreign keys on SQLite deletes its children (channels,
policies, tickets) with it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('admins')


def downgrade() -> None:
    # Existing rows need a value for the NOT NULL column, so it comes back with a default.
    with op.batch_alter_table('workspaces', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('admins', sa.JSON(), nullable=False,
                                      server_default=sa.text("'[]'")))
