"""Daily rollups of tickets (metric_rollups, workspace_rollups, ticket_rollups), filled from
the tickets there are; indexes on when tickets were created and resolved and their metrics
started and fell due (the edges of a period are read from tickets); PostgreSQL vacuums busy
tickets sooner.

The backfill is the rebuild of ``slabot rollups rebuild`` (one definition of what a rollup
counts). A later migration that changes the rollup tables must rebuild them again itself.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_METRICS = (('first_response', 'fr'), ('resolution', 'res'), ('next_response', 'nr'))

# PostgreSQL's defaults vacuum a table once 20% of its rows are dead (updates) or new
# (inserts): 200,000 at a million tickets, more than a month of a busy workspace. Until then
# the visibility map of the pages written since the last vacuum is empty, and every index
# scan over recent tickets (the ones reports ask about) reads the table too. At 1% (plus the
# fixed 1,000) a million-row table is vacuumed after ~10,000 changes, a day or two of a busy
# workspace, and each run only visits the pages changed since the last one. ANALYZE at 1%
# (default 10%) keeps the planner's picture of the newest instants current.
_TICKETS_AUTOVACUUM = {
    'autovacuum_vacuum_scale_factor': '0.01',
    'autovacuum_vacuum_threshold': '1000',
    'autovacuum_vacuum_insert_scale_factor': '0.01',
    'autovacuum_vacuum_insert_threshold': '1000',
    'autovacuum_analyze_scale_factor': '0.01',
}
# Rollup rows are updated in place many times a day (increments): room left on each page
# lets PostgreSQL keep an update on the same page without touching the indexes (HOT).
_ROLLUPS_FILLFACTOR = '70'
# Their blobs are microsecond counts, which barely compress: stored out of line but
# uncompressed (EXTERNAL), a 90-day read no longer spends half its time decompressing.
_BLOBS = ('elapsed', 'breaches')


def _key_columns() -> list[sa.Column]:
    return [
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.String(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
    ]


def _counts() -> list[sa.Column]:
    counts = ('stopped', 'breached', 'started', 'late_from', 'late_until', 'risk_from',
              'risk_until')
    return [*(sa.Column(name, sa.Integer(), nullable=False) for name in counts),
            sa.Column('elapsed', sa.LargeBinary(), nullable=False),
            sa.Column('breaches', sa.LargeBinary(), nullable=False)]


def _workspace_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                   name=op.f(f'fk_{table}_workspace_id_workspaces'),
                                   ondelete='CASCADE')


def upgrade() -> None:
    op.create_table(
        'metric_rollups',
        *_key_columns(),
        sa.Column('priority', sa.String(), nullable=False),
        sa.Column('metric', sa.String(), nullable=False),
        sa.Column('target_s', sa.Float(), nullable=False),
        *_counts(),
        _workspace_key('metric_rollups'),
        sa.PrimaryKeyConstraint('workspace_id', 'channel_id', 'day', 'priority', 'metric',
                                'target_s', name=op.f('pk_metric_rollups')),
    )
    op.create_table(
        'workspace_rollups',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('metric', sa.String(), nullable=False),
        *_counts(),
        _workspace_key('workspace_rollups'),
        sa.PrimaryKeyConstraint('workspace_id', 'day', 'metric',
                                name=op.f('pk_workspace_rollups')),
    )
    op.create_index(op.f('ix_metric_rollups_workspace_id_day'), 'metric_rollups',
                    ['workspace_id', 'day'])
    op.create_table(
        'ticket_rollups',
        *_key_columns(),
        sa.Column('created', sa.Integer(), nullable=False),
        sa.Column('resolved', sa.Integer(), nullable=False),
        _workspace_key('ticket_rollups'),
        sa.PrimaryKeyConstraint('workspace_id', 'channel_id', 'day',
                                name=op.f('pk_ticket_rollups')),
    )
    op.create_index(op.f('ix_ticket_rollups_workspace_id_day'), 'ticket_rollups',
                    ['workspace_id', 'day'])
    for prefix, short in _METRICS:
        op.create_index(f'ix_tickets_ws_{short}_started', 'tickets',
                        ['workspace_id', f'{prefix}_started_at', f'{prefix}_stopped_at'])
        op.create_index(f'ix_tickets_ws_{short}_due', 'tickets',
                        ['workspace_id', f'{prefix}_due_at', f'{prefix}_stopped_at'])
    for column in ('created_at', 'resolved_at'):
        op.create_index(op.f(f'ix_tickets_workspace_id_{column}'), 'tickets',
                        ['workspace_id', column])
    if op.get_bind().dialect.name == 'postgresql':
        settings = ', '.join(f'{name} = {value}' for name, value in _TICKETS_AUTOVACUUM.items())
        op.execute(f'ALTER TABLE tickets SET ({settings})')
        for table in ('metric_rollups', 'workspace_rollups', 'ticket_rollups'):
            op.execute(f'ALTER TABLE {table} SET (fillfactor = {_ROLLUPS_FILLFACTOR})')
        for table in ('metric_rollups', 'workspace_rollups'):
            op.execute(f'ALTER TABLE {table} ' + ', '.join(
                f'ALTER COLUMN {blob} SET STORAGE EXTERNAL' for blob in _BLOBS))
    _backfill()


def _backfill() -> None:
    from storage.repositories import rollups

    connection = op.get_bind()
    for workspace_id in rollups.workspace_ids(connection):
        rollups.rebuild(connection, workspace_id)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE tickets RESET ({", ".join(_TICKETS_AUTOVACUUM)})')
    for column in ('resolved_at', 'created_at'):
        op.drop_index(op.f(f'ix_tickets_workspace_id_{column}'), table_name='tickets')
    for _prefix, short in reversed(_METRICS):
        op.drop_index(f'ix_tickets_ws_{short}_due', table_name='tickets')
        op.drop_index(f'ix_tickets_ws_{short}_started', table_name='tickets')
    op.drop_index(op.f('ix_ticket_rollups_workspace_id_day'), table_name='ticket_rollups')
    op.drop_table('ticket_rollups')
    op.drop_table('workspace_rollups')
    op.drop_index(op.f('ix_metric_rollups_workspace_id_day'), table_name='metric_rollups')
    op.drop_table('metric_rollups')
