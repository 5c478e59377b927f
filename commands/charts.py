"""What a compliance chart shows: met % per metric and local day (bot/views/charts.py draws it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class DailyCompliance:
    """Met % per metric for one local day; None when nothing was measured that day."""

    day: date
    first_response: float | None
    resolution: float | None
