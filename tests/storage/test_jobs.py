"""Exactly-once bookkeeping: Slack event ids and run-once job slots."""

from datetime import timedelta

import pytest
from sqlmodel import func, select

from storage import repositories as repo
from storage.models import ProcessedEvent
from storage.repositories.jobs import record_event_ids
from tests.storage.builders import T0


def test_an_event_id_is_new_once_and_a_retry_is_recognised(uow):
    with uow() as s:
        assert repo.record_event_id(session=s, event_id="Ev1", at=T0)
        assert not repo.record_event_id(session=s, event_id="Ev1", at=T0)
    with uow() as s:
        assert not repo.record_event_id(session=s, event_id="Ev1", at=T0 + timedelta(minutes=1))
        assert repo.record_event_id(session=s, event_id="Ev2", at=T0)
        assert s.exec(select(func.count()).select_from(ProcessedEvent)).one() == 2


def test_an_event_seen_in_a_unit_of_work_that_failed_is_not_remembered(uow):
    with pytest.raises(RuntimeError), uow() as s:
        repo.record_event_id(session=s, event_id="Ev1", at=T0)
        raise RuntimeError("handler crashed: Slack's retry must be processed")
    with uow() as s:
        assert repo.record_event_id(session=s, event_id="Ev1", at=T0)


def test_many_event_ids_at_once_return_those_seen_for_the_first_time(uow):
    with uow() as s:
        repo.record_event_id(session=s, event_id="Ev1", at=T0)
    ids = [f"Ev{n}" for n in range(1, 1200)] + ["Ev7", "Ev2"]  # more than one INSERT's worth
    with uow() as s:
        fresh = record_event_ids(session=s, event_ids=ids, at=T0)
    assert fresh == {f"Ev{n}" for n in range(2, 1200)}
    with uow() as s:
        assert record_event_ids(session=s, event_ids=["Ev5", "Ev1200"], at=T0) == {"Ev1200"}
        assert s.exec(select(func.count()).select_from(ProcessedEvent)).one() == 1200


def test_an_empty_event_id_is_refused(uow):
    with uow() as s, pytest.raises(ValueError, match="event id is required"):
        repo.record_event_id(session=s, event_id="")


def test_old_event_ids_are_forgotten(uow):
    with uow() as s:
        repo.record_event_id(session=s, event_id="old", at=T0)
        repo.record_event_id(session=s, event_id="new", at=T0 + timedelta(hours=2))
        assert repo.forget_event_ids_before(session=s, before=T0 + timedelta(hours=1)) == 1
        assert repo.record_event_id(session=s, event_id="old", at=T0 + timedelta(hours=3))


def test_a_job_slot_runs_once_across_replicas(uow):
    with uow() as s:
        assert repo.acquire_job_slot(session=s, name="digest:1", slot="2026-W10", holder="a")
    with uow() as s:
        assert not repo.acquire_job_slot(session=s, name="digest:1", slot="2026-W10", holder="b")
        assert repo.acquire_job_slot(session=s, name="digest:1", slot="2026-W11", holder="b")
        assert repo.acquire_job_slot(session=s, name="digest:2", slot="2026-W10", holder="b")
