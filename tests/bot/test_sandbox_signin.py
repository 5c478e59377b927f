"""The sandbox page's Sign in with Slack: it signs in the person the page shows, no password,
and the code it hands back is exchanged through the sandbox's Web API as Slack's would be."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.error import HTTPError
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pytest
from slack_sdk import WebClient

from bot.sandbox.botlink import BotLink
from bot.sandbox.demo import CHANNELS, MANAGER, PEOPLE, REQUESTER, SUPPORT, Person
from bot.sandbox.signin import PERSON_COOKIE
from bot.sandbox.slack_api import FakeSlack
from bot.sandbox.web import SandboxPage, create_sandbox_app
from bot.server import BackgroundServer
from tests.closing import close_later, running_fake_slack

PORTAL = "http://127.0.0.1:9"  # the bot: never called, only redirected to
CALLBACK = PORTAL + "/portal/auth/callback"
CLIENT_ID, CLIENT_SECRET = "demo.client", "demo-client-secret"


@dataclass
class Sandbox:
    slack: FakeSlack
    url: str


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_fake_slack(token="xoxb-sandbox", strict=True) as slack:
        slack.enable_openid(CLIENT_ID, CLIENT_SECRET)
        page = SandboxPage(sandbox=slack, people=PEOPLE, channels=CHANNELS,
                           bot=BotLink(PORTAL, "secret"), tracked=SUPPORT.id, portal_url=PORTAL)
        server = BackgroundServer(create_sandbox_app(page)).start()
        try:
            yield Sandbox(slack, server.url)
        finally:
            close_later(server.stop)


class _Stay(HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the redirect itself is what the test looks at


def redirect_of(url: str, cookie: str = "") -> tuple[int, str, str]:
    """Status, Location and Set-Cookie of a redirect (anything else fails the test)."""
    request = Request(url, headers={"Cookie": cookie} if cookie else {})
    with pytest.raises(HTTPError) as answer:
        build_opener(_Stay).open(request, timeout=10)
    headers = answer.value.headers
    return answer.value.code, headers.get("Location", ""), headers.get("Set-Cookie", "")


def authorize_url(base: str, client_id: str = CLIENT_ID) -> str:
    return base + "openid/connect/authorize?" + urlencode({
        "response_type": "code", "scope": "openid profile", "client_id": client_id,
        "state": "the-state", "nonce": "the-nonce", "redirect_uri": CALLBACK})


def signed_in(slack: FakeSlack, location: str) -> dict[str, object]:
    """What the portal learns from the code: the code exchange, then userInfo."""
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = WebClient(base_url=slack.api_url).openid_connect_token(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code, redirect_uri=CALLBACK)
    info = WebClient(token=tokens["access_token"], base_url=slack.api_url
                     ).openid_connect_userInfo().data
    assert isinstance(info, dict)
    return info


def test_open_the_portal_picks_the_person_and_starts_the_sign_in(sandbox: Sandbox) -> None:
    status, location, cookie = redirect_of(f"{sandbox.url}/sandbox/portal?as={MANAGER.id}")
    assert (status, location) == (303, PORTAL + "/portal/auth/login")
    assert cookie.startswith(f"{PERSON_COOKIE}={MANAGER.id};")


@pytest.mark.parametrize("person", [MANAGER, REQUESTER])
def test_authorize_signs_in_the_person_the_page_shows(sandbox: Sandbox, person: Person) -> None:
    status, location, _ = redirect_of(authorize_url(sandbox.url + "/"),
                                      cookie=f"{PERSON_COOKIE}={person.id}")
    assert status == 302 and location.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(location).query)["state"] == ["the-state"]
    info = signed_in(sandbox.slack, location)
    assert info["https://slack.com/user_id"] == person.id
    assert info["name"] == person.name.title()


def test_authorize_refuses_another_apps_client_id(sandbox: Sandbox) -> None:
    request = Request(authorize_url(sandbox.url + "/", client_id="someone.else"))
    with pytest.raises(HTTPError) as answer:
        build_opener(_Stay).open(request, timeout=10)
    assert answer.value.code == 400 and answer.value.read() == b"invalid_client_id"
