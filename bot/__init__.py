"""The runtime and Slack surface: settings, wiring, Bolt app, web server, scheduler, CLI."""
