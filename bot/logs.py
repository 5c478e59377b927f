"""Structured log lines: readable text for people, the same fields as `extra` for machines."""

from __future__ import annotations

import logging
from typing import Any, Protocol, TypedDict


def log_event(
    logger: logging.Logger, level: int, event: str, *, exc_info: bool = False, **fields: Any
) -> None:
    """One structured log line: `event key=value ...` as text, and the fields as `extra`."""
    text = event + "".join(f" {key}={value}" for key, value in fields.items())
    logger.log(level, text, exc_info=exc_info, extra={"event": event, **fields})


class NudgeLike(Protocol):
    """What names one nudge in the logs: a planned nudge (sla) or one being sent (bot)."""

    @property
    def metric(self) -> str: ...

    @property
    def threshold(self) -> float: ...

    @property
    def seq(self) -> int: ...


class NudgeFields(TypedDict):
    """The fields every log line about a nudge carries, named the same everywhere."""

    metric: str
    threshold: float
    seq: int


def nudge_fields(nudge: NudgeLike) -> NudgeFields:
    """`metric=... threshold=... seq=...` of a nudge, for `log_event(..., **fields)`."""
    return {"metric": str(nudge.metric), "threshold": nudge.threshold, "seq": nudge.seq}
