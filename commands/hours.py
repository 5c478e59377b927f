"""`/sla hours ...`: the business calendar SLA clocks run on in this channel."""

from __future__ import annotations

from commands.errors import UsageError
from commands.parser import HoursArgs, parse_hours
from commands.policy_verbs import update_channel_policy
from commands.request import Message, Verb, VerbRequest
from sla.calendar import BusinessCalendar, CalendarError
from sla.policy import Policy

USAGE = "/sla hours Mon-Fri 09:00-17:00 tz=Europe/Berlin [holidays=DE]"
USAGE_ALWAYS = "/sla hours 24x7 [tz=UTC]"


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
