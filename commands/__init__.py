"""What a person or the scheduler can make the bot do: one module per family of acts, each
returning typed results (never Block Kit)."""
