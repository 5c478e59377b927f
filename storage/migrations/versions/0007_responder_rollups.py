"""Responder figures from daily rollups: each ticket's contributions (responder_facts) and
their sums per channel, UTC day and person (responder_rollups), filled from the tickets'
histories there are.

The backfill is the rebuild of ``slabot rollups rebuild`` (each ticket's history replayed
under the policy in force for its channel).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.columns import UTCDateTime

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'responder_facts',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(), nullable=False),
        sa.Column('kind', sa.String(), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('user_id', sa.String(), nullable=False),
        sa.Column('elapsed_us', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_responder_facts_ticket_id_tickets'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_responder_facts_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('ticket_id', 'seq', name=op.f('pk_responder_facts')),
    )
    op.create_index(op.f('ix_responder_facts_workspace_id_at'), 'responder_facts',
                    ['workspace_id', 'at'])
    op.create_table(
        'responder_rollups',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('user_id', sa.String(), nullable=False),
        sa.Column('first_responses', sa.Integer(), nullable=False),
        sa.Column('resolutions', sa.Integer(), nullable=False),
        sa.Column('breaches', sa.Integer(), nullable=False),
        sa.Column('elapsed', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_responder_rollups_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('workspace_id', 'channel_id', 'day', 'user_id',
                                name=op.f('pk_responder_rollups')),
    )
    op.create_index(op.f('ix_responder_rollups_workspace_id_day'), 'responder_rollups',
                    ['workspace_id', 'day'])
    if op.get_bind().dialect.name == 'postgresql':
        # As the other rollups (0006): room for in-place increments, blobs uncompressed.
        op.execute('ALTER TABLE responder_rollups SET (fillfactor = 70)')
        op.execute('ALTER TABLE responder_rollups ALTER COLUMN elapsed SET STORAGE EXTERNAL')
    _backfill()


def _backfill() -> None:
    from sqlmodel import Session

    from storage.repositories import responder_rollups, rollups

    with Session(bind=op.get_bind()) as session:
        for workspace_id in rollups.workspace_ids(session.connection()):
            responder_rollups.rebuild(session, workspace_id)
        session.flush()


def downgrade() -> None:
    op.drop_index(op.f('ix_responder_rollups_workspace_id_day'), table_name='responder_rollups')
    op.drop_table('responder_rollups')
    op.drop_index(op.f('ix_responder_facts_workspace_id_at'), table_name='responder_facts')
    op.drop_table('responder_facts')
