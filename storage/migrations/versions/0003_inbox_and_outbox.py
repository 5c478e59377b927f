"""The inbox (events stored before their ack) and the outbox of every Slack write.

The inbox's unique key dedupes Slack's redeliveries, so processed_events goes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.columns import UTCDateTime

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_events_received_at'))
    op.drop_table('processed_events')
    op.create_table('inbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('claimed_by', sa.String(), nullable=True),
    sa.Column('claimed_until', UTCDateTime(), nullable=True),
    sa.Column('done_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'done', 'parked')", name=op.f('ck_inbox_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_inbox_dedupe_key'))
    )
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_state_next_attempt_at'), ['state', 'next_attempt_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('channel_id', sa.String(), nullable=True),
    sa.Column('thread_ts', sa.String(), nullable=True),
    sa.Column('user_id', sa.String(), nullable=True),
    sa.Column('text', sa.String(), nullable=False),
    sa.Column('blocks', sa.JSON(), nullable=True),
    sa.Column('response_url', sa.String(), nullable=True),
    sa.Column('file_name', sa.String(), nullable=True),
    sa.Column('file_content', sa.LargeBinary(), nullable=True),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('claimed_by', sa.String(), nullable=True),
    sa.Column('claimed_until', UTCDateTime(), nullable=True),
    sa.Column('slack_ts', sa.String(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'sent', 'failed', 'collapsed')", name=op.f('ck_outbox_state')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_outbox_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_state_next_attempt_at'), ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_ticket_id_kind_state'), ['ticket_id', 'kind', 'state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_ticket_id_kind_state'))
        batch_op.drop_index(batch_op.f('ix_outbox_state_next_attempt_at'))

    op.drop_table('outbox')
    with op.batch_alter_table('inbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_state_next_attempt_at'))

    op.drop_table('inbox')
    op.create_table('processed_events',
    sa.Column('event_id', sa.String(), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_processed_events'))
    )
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_events_received_at'), ['received_at'], unique=False)
