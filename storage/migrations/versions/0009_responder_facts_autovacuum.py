"""responder_facts is vacuumed as often as tickets (0006): each change of a ticket deletes
and writes its contribution rows again, so at PostgreSQL's default 20% a table of a few
million rows carries hundreds of thousands of dead rows, which a period's edges (the recent
days, read by instant) wade through until autovacuum's turn. At 1% (plus 1,000) it is
vacuumed after about a day's changes of a busy workspace. SQLite: nothing to do.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SETTINGS = ('autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000, '
             'autovacuum_analyze_scale_factor = 0.01')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE responder_facts SET ({_SETTINGS})')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE responder_facts RESET (autovacuum_vacuum_scale_factor, '
                   'autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor)')
