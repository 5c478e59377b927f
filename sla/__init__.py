"""Every SLA rule, once and pure: no Slack, no SQL, no wall clock (``now`` is an argument)."""
