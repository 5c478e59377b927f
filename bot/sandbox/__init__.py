"""The local Slack sandbox: the Slack Web API stand-in (slack_api) and `slabot demo` (demo)."""
