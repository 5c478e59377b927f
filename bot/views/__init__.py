"""Block Kit and text rendering: what commands return, drawn for Slack (pure, no I/O)."""
