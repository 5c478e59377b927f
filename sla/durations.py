"""Human durations: ``parse_duration("1h30m")`` and ``format_duration(timedelta(minutes=90))``.

Units are seconds, minutes, hours and days, where a day is 24 hours (in business time a
"1d" target therefore means 24 business hours, i.e. three 8-hour business days).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

__all__ = ["DurationError", "format_business_duration", "format_duration", "parse_duration"]


class DurationError(ValueError):
    """A duration text could not be read; the message names the bad part."""


_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_UNIT_ALIASES = {
    "d": "d", "day": "d", "days": "d",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "s": "s", "sec": "s", "secs": "s", "second": "s", "seconds": "s",
}  # fmt: skip
_EXAMPLES = "e.g. 30s, 15m, 4h, 2d, 1h30m or 1.5h"
# One "<amount><unit>" part; whitespace between parts and between amount and unit is allowed.
_PART = re.compile(r"\s*(?P<amount>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>[a-z]+)\s*")


def parse_duration(text: str) -> timedelta:
    """Parse a human duration such as ``"45m"``, ``"1h30m"``, ``"1.5h"`` or ``"2d 4h"``.

    Raises DurationError (a ValueError) naming the part that could not be read.
    """
    if not isinstance(text, str):
        raise DurationError(f"a duration must be text like {_EXAMPLES}, not {text!r}")
    shown = text.strip()
    cleaned = re.sub(r"(\d),(\d)", r"\1.\2", shown.lower())  # "1,5h" is a decimal comma
    if not cleaned:
        raise DurationError(f"the duration is empty; write {_EXAMPLES}")
    if cleaned.startswith("-"):
        raise DurationError(f"a duration cannot be negative: {shown!r}")
    total = Decimal(0)
    seen: set[str] = set()
    pos = 0
    while pos < len(cleaned):
        match = _PART.match(cleaned, pos)
        if match is None:
            bad = cleaned[pos:].split()[0] if cleaned[pos:].split() else cleaned[pos:]
            if re.fullmatch(r"\d+(?:\.\d+)?", bad):
                raise DurationError(
                    f"{bad!r} in {shown!r} has no unit; add s, m, h or d ({_EXAMPLES})"
                )
            raise DurationError(f"cannot read {bad!r} in {shown!r}; write {_EXAMPLES}")
        unit = _UNIT_ALIASES.get(match["unit"])
        if unit is None:
            raise DurationError(
                f"unknown unit {match['unit']!r} in {shown!r}; use s, m, h or d ({_EXAMPLES})"
            )
        if unit in seen:
            raise DurationError(f"the unit {match['unit']!r} appears twice in {shown!r}")
        seen.add(unit)
        try:
            total += Decimal(match["amount"]) * _UNIT_SECONDS[unit]
        except InvalidOperation as exc:  # pragma: no cover - the regex only admits decimals
            raise DurationError(f"cannot read the number {match['amount']!r}") from exc
        pos = match.end()
    microseconds = int((total * 1_000_000).to_integral_value())
    try:
        return timedelta(microseconds=microseconds)
    except OverflowError as exc:
        raise DurationError(f"the duration {shown!r} is too long") from exc


def format_business_duration(td: timedelta) -> str:
    """Format business time with hours as the largest unit: ``"40h"``, ``"24h"``, ``"1h 30m"``.

    A "d" of business time is 24 business hours (three 8-hour days), which people misread as
    one day; hours say what the clock really counts. Parses back with parse_duration.
    """
    return format_duration(td, largest="h")


def format_duration(td: timedelta, *, largest: str = "d") -> str:
    """Format a duration compactly, largest unit first: ``"45m"``, ``"1h 30m"``, ``"2d 4h"``.

    Zero units are left out; fractions of a second are dropped; negative values get a
    leading minus (``"-15m"``); a duration under one second is ``"0s"``. ``largest="h"``
    leaves days out (see format_business_duration).
    """
    sign = "-" if td < timedelta(0) else ""
    magnitude = abs(td)
    seconds = magnitude.days * 86_400 + magnitude.seconds  # exact, unlike total_seconds()
    parts = []
    units = list(_UNIT_SECONDS)
    for unit in units[units.index(largest):]:
        amount, seconds = divmod(seconds, _UNIT_SECONDS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    if not parts:
        return "0s"
    return sign + " ".join(parts)
