"""`/sla hours ...`: the business calendar SLA clocks run on in this channel."""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from commands.errors import UsageError
from commands.parser import OFF_WORDS, clip
from commands.policy_verbs import update_channel_policy
from commands.request import Message, Verb, VerbRequest
from sla.business_time import CalendarError
from sla.calendar import BusinessCalendar
from sla.policy import Policy

USAGE = "/sla hours Mon-Fri 09:00-17:00 tz=Europe/Berlin [holidays=DE]"
USAGE_ALWAYS = "/sla hours 24x7 [tz=UTC]"


# -- grammar ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursArgs:
    """`hours Mon-Fri 09:00-17:00 tz=Europe/Berlin [holidays=DE]` or `hours 24x7 [tz=...]`.

    `hours_text` is the weekly schedule as typed ("Mon-Fri 09:00-17:00, Sat 10:00-14:00"),
    read by `sla.calendar.BusinessCalendar.parse_hours`; None when nothing but tz/holidays
    was given (keep the current schedule). `holidays_given` False keeps the current holiday
    country; True with `country` None (`holidays=none`) removes it.
    """

    hours_text: str | None
    always: bool
    tz: str | None
    country: str | None
    subdiv: str | None
    holidays_given: bool = False


_HOLIDAY_CODE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z0-9]{1,5}))?$")


def parse_hours(args: tuple[str, ...], usage: str) -> HoursArgs:
    """Split the schedule from the `tz=` and `holidays=` settings and check those two."""
    if not args:
        raise UsageError("give the working hours, like Mon-Fri 09:00-17:00, or 24x7", usage)
    schedule: list[str] = []
    tz = country = subdiv = None
    holidays_given = False
    for token in args:
        name, sep, value = token.partition("=")
        key = name.lower()
        if not sep:
            schedule.append(token)
        elif key in ("tz", "timezone"):
            tz = _parse_timezone(value, usage)
        elif key == "holidays":
            country, subdiv = _parse_holidays(value, usage)
            holidays_given = True
        else:
            raise UsageError(
                f"`{clip(token)}` is not an hours setting: use tz=... or holidays=..", usage
            )
    text = " ".join(schedule).strip() or None
    always = text is not None and text.lower().replace(" ", "") in ("24x7", "24/7", "always")
    return HoursArgs(
        hours_text=None if always else text, always=always, tz=tz, country=country,
        subdiv=subdiv, holidays_given=holidays_given,
    )


def _parse_timezone(value: str, usage: str) -> str:
    if value.upper() == "UTC":
        return "UTC"
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        # People type `europe/berlin` or `AMERICA/NEW_YORK`; the IANA names are case-sensitive.
        canonical = _zone_names_by_lower_case().get(value.lower())
        if canonical is None:
            raise UsageError(
                f"`{clip(value)}` is not a time zone: use an IANA name like Europe/Berlin", usage
            ) from None
        return canonical
    return value


@functools.cache
def _zone_names_by_lower_case() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def _parse_holidays(value: str, usage: str) -> tuple[str | None, str | None]:
    if value.lower() in OFF_WORDS:
        return None, None
    match = _HOLIDAY_CODE.match(value)
    if not match:
        raise UsageError(
            f"`{clip(value)}` is not a country: use a code like DE, US or DE-BY (or holidays=none)",
            usage,
        )
    subdiv = match.group(2).upper() if match.group(2) else None
    return match.group(1).upper(), subdiv


def build_calendar(current: BusinessCalendar, args: HoursArgs) -> BusinessCalendar:
    """The new calendar: what was typed, the rest kept from `current`."""
    tz = args.tz or current.tz
    if args.always:
        if args.country:
            raise UsageError("a 24x7 calendar has no holidays; drop holidays=", USAGE_ALWAYS)
        return BusinessCalendar.always(tz)
    if args.hours_text is not None:
        hours = BusinessCalendar.parse_hours(args.hours_text)
    elif current.is_always:
        raise UsageError("give the working hours too, like Mon-Fri 09:00-17:00", USAGE)
    else:
        hours = current.hours
    if args.holidays_given:
        country, subdiv = args.country, args.subdiv
    else:
        country, subdiv = current.country, current.subdiv
    if country:
        return BusinessCalendar.from_country(
            tz, hours, country, subdiv, holidays=current.holidays
        )
    return BusinessCalendar(tz, hours, current.holidays)


def handle_hours(request: VerbRequest) -> Message:
    """Set the working hours, time zone and holiday country of the channel's policy."""
    parsed = parse_hours(request.args, USAGE)
    request.require_admin("change business hours")

    def change(policy: Policy) -> Policy:
        try:
            calendar = build_calendar(policy.calendar, parsed)
        except CalendarError as exc:
            raise UsageError(str(exc), USAGE) from None
        return policy.with_calendar(calendar)

    policy = update_channel_policy(request, change)
    return Message(
        text=f":clock9: Business hours for <#{request.channel_id}>: "
        f"{policy.calendar.describe()}. SLA clocks only run in these hours."
    )


VERBS = (
    Verb(
        name="hours",
        usage=(USAGE, USAGE_ALWAYS),
        summary="set when SLA clocks run here: working hours, time zone, public holidays",
        details="Several groups are fine: `Mon-Fri 09:00-17:00, Sat 10:00-14:00`. Overnight "
        "shifts like `Mon-Thu 22:00-06:00` work too. `holidays=DE` (or `DE-BY`) closes the "
        "country's public holidays; `holidays=none` removes them. Omitted parts stay as "
        "they are.",
        handler=handle_hours,
        admin_only=True,
    ),
)
