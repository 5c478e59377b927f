"""What the scheduler runs with: this replica's name, its sweep, its claim sizes and leases."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.config import SchedulerSettings
from bot.nudges import SenderOptions
from bot.scheduler.dispatcher import SWEEP_EVERY


@dataclass(frozen=True)
class SchedulerOptions:
    """Knobs of the nudge scheduler; `from_env` reads the optional SLABOT_SCHEDULER_* variables."""

    holder: str
    sweep_every: timedelta = SWEEP_EVERY
    claim_batch: int = 200
    ticket_lease: timedelta = timedelta(minutes=2)
    sender: SenderOptions | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SchedulerOptions:
        """Options from `environ` (None: this process's environment), through bot/config.py.

        A stable instance id lets a restarted bot resume its claims at once. Raises
        SchedulerConfigError naming the variable when a number is not one.
        """
        found = SchedulerSettings.from_env(environ)
        holder = found.instance_id or default_holder()
        sender = SenderOptions(holder=holder)
        if found.nudge_lease is not None:
            sender = SenderOptions(holder=holder, lease=found.nudge_lease)
        return cls(holder=holder, sweep_every=found.sweep_every or SWEEP_EVERY, sender=sender)

    @property
    def send(self) -> SenderOptions:
        """Sender options (same holder)."""
        return self.sender or SenderOptions(holder=self.holder)


def default_holder() -> str:
    """host:pid:random, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
