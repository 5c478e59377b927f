"""The SLA domain: business calendars, durations, policies, ticket clocks, escalation and
compliance. Pure Python: no Slack, no SQL, no wall clock (``now`` is always an argument)."""
