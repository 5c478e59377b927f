"""Public holidays by country, from the ``holidays`` package: the one place ``sla/`` reads it.

Both answers are cached: the package builds a year's holidays slowly, and a calendar asks
for the same country and years again and again.
"""

from __future__ import annotations

from functools import lru_cache

import holidays as holidays_lib

__all__ = ["country_holidays", "holidays_known"]


@lru_cache(maxsize=512)
def country_holidays(country: str, subdiv: str | None, year: int) -> frozenset[int]:
    """Holiday ordinals for local dates near UTC year ``year`` (observed days may cross years)."""
    found = holidays_lib.country_holidays(country, subdiv=subdiv, years=range(year - 1, year + 2))
    return frozenset(d.toordinal() for d in found)


@lru_cache(maxsize=256)
def holidays_known(country: str, subdiv: str | None) -> bool:
    """Whether the holidays package knows this country/subdivision."""
    try:
        holidays_lib.country_holidays(country, subdiv=subdiv)
    except NotImplementedError:
        return False
    return True
