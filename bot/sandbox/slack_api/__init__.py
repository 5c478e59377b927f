"""A stand-in for the Slack Web API on 127.0.0.1 (tests, `slabot demo`); see fake.py."""

from bot.sandbox.slack_api.fake import FakeSlack
from bot.sandbox.slack_api.records import BOT_ID, BOT_USER_ID, TEAM_ID, Call, FakeChannel, FakeUser

__all__ = ["BOT_ID", "BOT_USER_ID", "TEAM_ID", "Call", "FakeChannel", "FakeSlack", "FakeUser"]
