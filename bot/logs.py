"""Structured log lines: readable text for people, the same fields as `extra` for machines."""

from __future__ import annotations

import logging
from typing import Any


def log_event(
    logger: logging.Logger, level: int, event: str, *, exc_info: bool = False, **fields: Any
) -> None:
    """One structured log line: `event key=value ...` as text, and the fields as `extra`."""
    text = event + "".join(f" {key}={value}" for key, value in fields.items())
    logger.log(level, text, exc_info=exc_info, extra={"event": event, **fields})
