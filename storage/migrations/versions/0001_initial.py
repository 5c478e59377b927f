"""Initial schema: workspaces, policies, channels, tickets, events, nudges, leases, digests.

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.columns import UTCDateTime

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_leases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('slot', sa.String(), nullable=False),
    sa.Column('holder', sa.String(), nullable=False),
    sa.Column('acquired_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_leases')),
    sa.UniqueConstraint('name', 'slot', name=op.f('uq_job_leases_name_slot'))
    )
    op.create_table('processed_events',
    sa.Column('event_id', sa.String(), nullable=False),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_processed_events'))
    )
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_events_received_at'), ['received_at'], unique=False)

    op.create_table('workspaces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('tz', sa.String(), nullable=False),
    sa.Column('admins', sa.JSON(), nullable=False),
    sa.Column('ticket_prefix', sa.String(), nullable=False),
    sa.Column('next_ticket_number', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workspaces')),
    sa.UniqueConstraint('team_id', name=op.f('uq_workspaces_team_id'))
    )
    op.create_table('digest_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('target_channel_id', sa.String(), nullable=True),
    sa.Column('target_user_id', sa.String(), nullable=True),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('time_of_day', sa.String(), nullable=True),
    sa.Column('cron', sa.String(), nullable=True),
    sa.Column('tz', sa.String(), nullable=False),
    sa.Column('scope', sa.String(), nullable=False),
    sa.Column('scope_channel_id', sa.String(), nullable=True),
    sa.Column('created_by', sa.String(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("scope = 'all' OR scope_channel_id IS NOT NULL", name=op.f('ck_digest_subscriptions_scope_channel')),
    sa.CheckConstraint("scope IN ('channel', 'all')", name=op.f('ck_digest_subscriptions_scope')),
    sa.CheckConstraint('(target_channel_id IS NULL) <> (target_user_id IS NULL)', name=op.f('ck_digest_subscriptions_one_target')),
    sa.CheckConstraint('cron IS NOT NULL OR (weekday IS NOT NULL AND time_of_day IS NOT NULL)', name=op.f('ck_digest_subscriptions_schedule')),
    sa.CheckConstraint('weekday IS NULL OR (weekday >= 0 AND weekday <= 6)', name=op.f('ck_digest_subscriptions_weekday')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_digest_subscriptions_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_subscriptions'))
    )
    with op.batch_alter_table('digest_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_subscriptions_workspace_id_active'), ['workspace_id', 'active'], unique=False)

    op.create_table('policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_policies_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policies')),
    sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_policies_workspace_id_name'))
    )
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(), nullable=False),
    sa.Column('channel_id', sa.String(), nullable=False),
    sa.Column('message_ts', sa.String(), nullable=False),
    sa.Column('thread_ts', sa.String(), nullable=False),
    sa.Column('requester_id', sa.String(), nullable=False),
    sa.Column('assignee_id', sa.String(), nullable=True),
    sa.Column('priority', sa.String(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('title', sa.String(), nullable=False),
    sa.Column('text', sa.String(), nullable=False),
    sa.Column('source', sa.String(), nullable=False),
    sa.Column('permalink', sa.String(), nullable=True),
    sa.Column('card_ts', sa.String(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('first_response_at', UTCDateTime(), nullable=True),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.Column('first_response_target_s', sa.Float(), nullable=True),
    sa.Column('first_response_started_at', UTCDateTime(), nullable=True),
    sa.Column('first_response_due_at', UTCDateTime(), nullable=True),
    sa.Column('first_response_at_risk_at', UTCDateTime(), nullable=True),
    sa.Column('first_response_stopped_at', UTCDateTime(), nullable=True),
    sa.Column('first_response_elapsed_s', sa.Float(), nullable=True),
    sa.Column('first_response_breached', sa.Boolean(), nullable=True),
    sa.Column('resolution_target_s', sa.Float(), nullable=True),
    sa.Column('resolution_started_at', UTCDateTime(), nullable=True),
    sa.Column('resolution_due_at', UTCDateTime(), nullable=True),
    sa.Column('resolution_at_risk_at', UTCDateTime(), nullable=True),
    sa.Column('resolution_stopped_at', UTCDateTime(), nullable=True),
    sa.Column('resolution_elapsed_s', sa.Float(), nullable=True),
    sa.Column('resolution_breached', sa.Boolean(), nullable=True),
    sa.Column('next_response_target_s', sa.Float(), nullable=True),
    sa.Column('next_response_started_at', UTCDateTime(), nullable=True),
    sa.Column('next_response_due_at', UTCDateTime(), nullable=True),
    sa.Column('next_response_at_risk_at', UTCDateTime(), nullable=True),
    sa.Column('next_response_stopped_at', UTCDateTime(), nullable=True),
    sa.Column('next_response_elapsed_s', sa.Float(), nullable=True),
    sa.Column('next_response_breached', sa.Boolean(), nullable=True),
    sa.Column('next_due_at', UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(), nullable=True),
    sa.Column('claimed_until', UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("priority IN ('P1', 'P2', 'P3', 'P4')", name=op.f('ck_tickets_priority')),
    sa.CheckConstraint("status IN ('open', 'paused', 'resolved')", name=op.f('ck_tickets_status')),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_tickets_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('workspace_id', 'channel_id', 'message_ts', name=op.f('uq_tickets_workspace_id_channel_id_message_ts')),
    sa.UniqueConstraint('workspace_id', 'key', name=op.f('uq_tickets_workspace_id_key')),
    sa.UniqueConstraint('workspace_id', 'number', name=op.f('uq_tickets_workspace_id_number'))
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tickets_next_due_at'), ['next_due_at'], unique=False)
        batch_op.create_index('ix_tickets_unresolved', ['workspace_id', 'channel_id', 'created_at'], unique=False, sqlite_where=sa.text("status <> 'resolved'"), postgresql_where=sa.text("status <> 'resolved'"))
        batch_op.create_index(batch_op.f('ix_tickets_workspace_id_channel_id_thread_ts'), ['workspace_id', 'channel_id', 'thread_ts'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_workspace_id_status_assignee_id'), ['workspace_id', 'status', 'assignee_id'], unique=False)
        batch_op.create_index('ix_tickets_ws_ch_fr_stopped', ['workspace_id', 'channel_id', 'first_response_stopped_at', 'first_response_breached', 'first_response_elapsed_s', 'first_response_started_at', 'first_response_due_at'], unique=False)
        batch_op.create_index('ix_tickets_ws_ch_nr_stopped', ['workspace_id', 'channel_id', 'next_response_stopped_at', 'next_response_breached', 'next_response_elapsed_s', 'next_response_started_at', 'next_response_due_at'], unique=False)
        batch_op.create_index('ix_tickets_ws_ch_res_stopped', ['workspace_id', 'channel_id', 'resolution_stopped_at', 'resolution_breached', 'resolution_elapsed_s', 'resolution_started_at', 'resolution_due_at'], unique=False)
        batch_op.create_index('ix_tickets_ws_fr_stopped', ['workspace_id', 'first_response_stopped_at', 'first_response_breached', 'first_response_elapsed_s', 'first_response_started_at', 'first_response_due_at'], unique=False)
        batch_op.create_index('ix_tickets_ws_nr_stopped', ['workspace_id', 'next_response_stopped_at', 'next_response_breached', 'next_response_elapsed_s', 'next_response_started_at', 'next_response_due_at'], unique=False)
        batch_op.create_index('ix_tickets_ws_res_stopped', ['workspace_id', 'resolution_stopped_at', 'resolution_breached', 'resolution_elapsed_s', 'resolution_started_at', 'resolution_due_at'], unique=False)

    op.create_table('nudges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('planned_at', UTCDateTime(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('state', sa.String(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('audiences', sa.JSON(), nullable=False),
    sa.Column('delivered', sa.JSON(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.Column('claimed_by', sa.String(), nullable=True),
    sa.Column('claimed_until', UTCDateTime(), nullable=True),
    sa.Column('slack_channel', sa.String(), nullable=True),
    sa.Column('slack_ts', sa.String(), nullable=True),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'skipped')", name=op.f('ck_nudges_state')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_nudges_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudges')),
    sa.UniqueConstraint('ticket_id', 'metric', 'cycle', 'threshold', 'seq', name=op.f('uq_nudges_ticket_id_metric_cycle_threshold_seq'))
    )
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nudges_state_next_attempt_at'), ['state', 'next_attempt_at'], unique=False)

    op.create_table('ticket_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.String(), nullable=True),
    sa.Column('priority', sa.String(), nullable=True),
    sa.Column('note', sa.String(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_events_ticket_id_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_events'))
    )
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_events_ticket_id_at_id'), ['ticket_id', 'at', 'id'], unique=False)

    op.create_table('tracked_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.String(), nullable=False),
    sa.Column('name', sa.String(), nullable=True),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('default_priority', sa.String(), nullable=True),
    sa.Column('escalation_channel_ids', sa.JSON(), nullable=False),
    sa.Column('manager_user_ids', sa.JSON(), nullable=False),
    sa.Column('responder_user_ids', sa.JSON(), nullable=False),
    sa.Column('tracking', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_tracked_channels_policy_id_policies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_tracked_channels_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracked_channels')),
    sa.UniqueConstraint('workspace_id', 'channel_id', name=op.f('uq_tracked_channels_workspace_id_channel_id'))
    )


def downgrade() -> None:
    op.drop_table('tracked_channels')
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_events_ticket_id_at_id'))

    op.drop_table('ticket_events')
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudges_state_next_attempt_at'))

    op.drop_table('nudges')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_ws_res_stopped')
        batch_op.drop_index('ix_tickets_ws_nr_stopped')
        batch_op.drop_index('ix_tickets_ws_fr_stopped')
        batch_op.drop_index('ix_tickets_ws_ch_res_stopped')
        batch_op.drop_index('ix_tickets_ws_ch_nr_stopped')
        batch_op.drop_index('ix_tickets_ws_ch_fr_stopped')
        batch_op.drop_index(batch_op.f('ix_tickets_workspace_id_status_assignee_id'))
        batch_op.drop_index(batch_op.f('ix_tickets_workspace_id_channel_id_thread_ts'))
        batch_op.drop_index('ix_tickets_unresolved')
        batch_op.drop_index(batch_op.f('ix_tickets_next_due_at'))

    op.drop_table('tickets')
    op.drop_table('policies')
    with op.batch_alter_table('digest_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_subscriptions_workspace_id_active'))

    op.drop_table('digest_subscriptions')
    op.drop_table('workspaces')
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_events_received_at'))

    op.drop_table('processed_events')
    op.drop_table('job_leases')
