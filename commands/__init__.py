"""What a person or the scheduler can make the bot do: typed results, never Block Kit."""
