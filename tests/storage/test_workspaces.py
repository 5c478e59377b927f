"""Workspaces, tracked channels and policies."""

from datetime import timedelta

import pytest
from sqlmodel import func, select

from sla.calendar import BusinessCalendar
from sla.policy import Policy
from sla.targets import Metric, PolicyError, Priority
from storage import repositories as repo
from storage.errors import InvalidStoredPolicy, StorageError
from storage.models import PolicyRow


def test_a_workspace_is_created_once_per_team(uow):
    with uow() as s:
        first = repo.get_or_create_workspace(session=s, team_id="T1", name="Acme")
        again = repo.get_or_create_workspace(session=s, team_id="T1")
        assert again.id == first.id
        assert first.tz == "UTC" and first.name == "Acme"


def test_workspace_time_zone_must_be_a_real_zone(uow):
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        with pytest.raises(StorageError, match="unknown time zone 'Mars/Base'"):
            repo.update_workspace(session=s, workspace=ws, tz="Mars/Base")
        repo.update_workspace(session=s, workspace=ws, tz="Europe/Paris")
    with uow() as s:
        ws = repo.get_workspace(session=s, team_id="T1")
        assert ws.tz == "Europe/Paris"


def test_tracking_a_channel_and_untracking_it_keeps_its_settings(uow):
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        repo.track_channel(session=s, workspace_id=ws.id, channel_id="C1", default_priority="2")
        repo.configure_channel(session=s, workspace_id=ws.id, channel_id="C1",
                               escalation_channel_ids=["C9"], manager_user_ids=["U7", "U7"])
    with uow() as s:
        assert repo.is_tracked(session=s, workspace_id=ws.id, channel_id="C1")
        assert repo.untrack_channel(session=s, workspace_id=ws.id, channel_id="C1")
        assert not repo.untrack_channel(session=s, workspace_id=ws.id, channel_id="C1")
    with uow() as s:
        assert not repo.is_tracked(session=s, workspace_id=ws.id, channel_id="C1")
        assert repo.list_tracked_channels(session=s, workspace_id=ws.id) == []
        repo.track_channel(session=s, workspace_id=ws.id, channel_id="C1")
        channel = repo.get_channel(session=s, workspace_id=ws.id, channel_id="C1")
        assert channel.tracking
        assert channel.default_priority == "P2"
        assert channel.escalation_channel_ids == ["C9"]
        assert channel.manager_user_ids == ["U7"]


def test_tracking_since_moves_only_when_tracking_turns_on(uow):
    from tests.storage.builders import T0

    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        repo.track_channel(session=s, workspace_id=ws.id, channel_id="C1", at=T0)
        repo.track_channel(session=s, workspace_id=ws.id, channel_id="C1", at=T0 + timedelta(1))
        assert repo.get_channel(session=s, workspace_id=ws.id, channel_id="C1").tracking_since == T0
        repo.untrack_channel(session=s, workspace_id=ws.id, channel_id="C1")
        assert repo.list_all_tracked_channels(session=s) == []
        later = T0 + timedelta(days=2)
        repo.track_channel(session=s, workspace_id=ws.id, channel_id="C1", at=later)
        [(team, channel)] = repo.list_all_tracked_channels(session=s)
        assert (team, channel.channel_id, channel.tracking_since) == ("T1", "C1", later)


def test_without_any_stored_policy_a_channel_gets_the_stock_policy_in_workspace_time(uow):
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1", tz="America/New_York")
        policy = repo.get_policy(session=s, workspace_id=ws.id, channel_id="C1")
    assert policy.calendar.tz == "America/New_York"
    assert policy.target(Priority.P1, Metric.FIRST_RESPONSE) == timedelta(minutes=15)


def test_channel_policy_wins_over_workspace_default(uow):
    workspace_policy = Policy.default().with_target("P1", "first_response", timedelta(minutes=5))
    channel_policy = Policy.default(BusinessCalendar.always())
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        repo.track_channel(session=s, workspace_id=ws.id, channel_id="C1")
        repo.save_policy(session=s, workspace_id=ws.id, policy=workspace_policy)
        repo.save_policy(session=s, workspace_id=ws.id, policy=channel_policy, channel_id="C1")
    with uow() as s:
        assert repo.get_policy(session=s, workspace_id=ws.id, channel_id="C1") == channel_policy
        assert repo.get_policy(session=s, workspace_id=ws.id, channel_id="C2") == workspace_policy
        assert repo.get_policy(session=s, workspace_id=ws.id) == workspace_policy


def test_a_channels_setting_in_one_read_agrees_with_get_policy(uow):
    """get_channel_setting (intake's one statement) answers what the separate reads do."""
    workspace_policy = Policy.default().with_target("P1", "first_response", timedelta(minutes=5))
    channel_policy = Policy.default(BusinessCalendar.always())
    with uow() as s:
        assert repo.get_channel_setting(session=s, team_id="T1", channel_id="C1") is None
        bare = repo.get_or_create_workspace(session=s, team_id="T2", tz="Asia/Tokyo")
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        repo.track_channel(session=s, workspace_id=ws.id, channel_id="C1")
        repo.track_channel(session=s, workspace_id=ws.id, channel_id="C2", default_priority="P2")
        repo.save_policy(session=s, workspace_id=ws.id, policy=workspace_policy)
        repo.save_policy(session=s, workspace_id=ws.id, policy=channel_policy, channel_id="C1")
        repo.untrack_channel(session=s, workspace_id=ws.id, channel_id="C2")
    with uow() as s:
        for team, workspace_id, channel_id, tracked, expected in (
            ("T1", ws.id, "C1", True, channel_policy),
            ("T1", ws.id, "C2", False, workspace_policy),  # known, untracked: its row still
            ("T1", ws.id, "C3", None, workspace_policy),   # never configured: no row
            ("T2", bare.id, "C1", None, None),             # no stored policy: stock, in Tokyo
        ):
            workspace, channel, policy = repo.get_channel_setting(
                session=s, team_id=team, channel_id=channel_id)
            assert workspace.id == workspace_id
            assert (channel.tracking if channel else None) == tracked
            assert policy == repo.get_policy(session=s, workspace_id=workspace_id,
                                             channel_id=channel_id)
            if expected is not None:
                assert policy == expected
        assert policy.calendar.tz == "Asia/Tokyo"


def test_a_workspaces_channel_policies_in_two_reads_agree_with_get_policy(uow):
    """channel_policies (a page's many channels at once) answers what get_policy does."""
    workspace_policy = Policy.default().with_target("P1", "first_response", timedelta(minutes=5))
    channel_policy = Policy.default(BusinessCalendar.always())
    with uow() as s:
        bare = repo.get_or_create_workspace(session=s, team_id="T2", tz="Asia/Tokyo")
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        for channel in ("C1", "C2", "C4"):
            repo.track_channel(session=s, workspace_id=ws.id, channel_id=channel)
        repo.save_policy(session=s, workspace_id=ws.id, policy=workspace_policy)
        repo.save_policy(session=s, workspace_id=ws.id, policy=channel_policy, channel_id="C1")
        repo.save_policy(session=s, workspace_id=ws.id, policy=channel_policy, channel_id="C4")
        repo.untrack_channel(session=s, workspace_id=ws.id, channel_id="C4")
    with uow() as s:
        for workspace_id in (ws.id, bare.id):
            own, default = repo.channel_policies(session=s, workspace_id=workspace_id)
            for channel in ("C1", "C2", "C3", "C4"):
                assert own.get(channel, default) == repo.get_policy(
                    session=s, workspace_id=workspace_id, channel_id=channel), channel
        assert set(repo.channel_policies(session=s, workspace_id=ws.id)[0]) == {"C1", "C4"}
        assert default.calendar.tz == "Asia/Tokyo"


def test_saving_a_policy_again_replaces_it(uow):
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        repo.save_policy(session=s, workspace_id=ws.id, policy=Policy.default())
        newer = Policy.default().with_nudges([0.9])
        repo.save_policy(session=s, workspace_id=ws.id, policy=newer.to_spec())
    with uow() as s:
        assert repo.get_policy(session=s, workspace_id=ws.id) == newer
        assert s.exec(select(func.count()).select_from(PolicyRow)).one() == 1


def test_policy_with_an_invalid_calendar_is_rejected_and_nothing_is_written(uow):
    spec = Policy.default().to_spec()
    spec["calendar"] = {"tz": "Nowhere/Land", "hours": {"mon": [["09:00", "17:00"]]}}
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
    with pytest.raises(PolicyError, match="calendar"), uow() as s:
        repo.save_policy(session=s, workspace_id=ws.id, policy=spec, channel_id="C1")
    with uow() as s:
        assert s.exec(select(func.count()).select_from(PolicyRow)).one() == 0
        assert repo.get_channel(session=s, workspace_id=ws.id, channel_id="C1") is None


def test_a_stored_policy_that_no_longer_validates_is_reported_clearly(uow):
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        row = repo.save_policy(session=s, workspace_id=ws.id, policy=Policy.default())
        row.spec = {**row.spec, "targets": {"P1": {"first_response": -5}}}
        s.add(row)
    with pytest.raises(InvalidStoredPolicy, match="stored policy 'default'"), uow() as s:
        repo.get_policy(session=s, workspace_id=ws.id)
