"""Digest subscriptions."""

import pytest

from storage import repositories as repo
from storage.errors import NotFound, StorageError


def test_subscribe_list_and_unsubscribe(uow):
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        weekly = repo.add_digest_subscription(
            session=s, workspace_id=ws.id, tz="Europe/Paris", target_channel_id="C_MGMT",
            weekday=0, time_of_day="09:00", scope_channel_id="C1", created_by="U1")
        repo.add_digest_subscription(session=s, workspace_id=ws.id, tz="UTC",
                                     target_user_id="U2", cron="0 8 * * 1")
    with uow() as s:
        rows = repo.list_digest_subscriptions(session=s, workspace_id=ws.id)
        assert [(r.scope, r.scope_channel_id) for r in rows] == [("channel", "C1"), ("all", None)]
        assert repo.remove_digest_subscription(session=s, subscription_id=weekly.id)
        assert not repo.remove_digest_subscription(session=s, subscription_id=weekly.id)
    with uow() as s:
        assert [r.target_user_id for r in repo.list_digest_subscriptions(session=s)] == ["U2"]
        assert not repo.get_digest_subscription(session=s, subscription_id=weekly.id).active
        with pytest.raises(NotFound):
            repo.get_digest_subscription(session=s, subscription_id=999)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekday": 0, "time_of_day": "09:00"}, "exactly one channel or one user"),
        ({"target_user_id": "U1", "target_channel_id": "C1", "cron": "0 8 * * 1"},
         "exactly one channel or one user"),
        ({"target_user_id": "U1", "weekday": 0}, "weekday and a time"),
        ({"target_user_id": "U1", "weekday": 7, "time_of_day": "09:00"}, "weekday must be 0"),
        ({"target_user_id": "U1", "weekday": 1, "time_of_day": "9am"}, "time must be HH:MM"),
    ],
)
def test_bad_subscriptions_are_refused_with_the_reason(uow, kwargs, message):
    with uow() as s:
        ws = repo.get_or_create_workspace(session=s, team_id="T1")
        with pytest.raises(StorageError, match=message):
            repo.add_digest_subscription(session=s, workspace_id=ws.id, tz="UTC", **kwargs)
