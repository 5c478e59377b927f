"""Run-once job slots."""

from storage import repositories as repo


def test_a_job_slot_runs_once_across_replicas(uow):
    with uow() as s:
        assert repo.acquire_job_slot(session=s, name="digest:1", slot="2026-W10", holder="a")
    with uow() as s:
        assert not repo.acquire_job_slot(session=s, name="digest:1", slot="2026-W10", holder="b")
        assert repo.acquire_job_slot(session=s, name="digest:1", slot="2026-W11", holder="b")
        assert repo.acquire_job_slot(session=s, name="digest:2", slot="2026-W10", holder="b")
