"""`slabot demo`: the real bot in the local Slack sandbox, driven the way a person would.

Each demo is a `python -m bot demo` process started like a newcomer starts it: in a
directory of its own, with no environment but PATH and HOME (plus PYTHONPATH, so that the
checkout under test runs, not whatever `slabot` the virtualenv installed). The module's demo
shares its directory with a `slabot.db` that must stay untouched, and runs with 20-second
first-response targets (`--first-response 20s`, documented in its --help) so that a nudge
arrives while the test watches. The browser tests drive Debian's Chromium through Selenium;
they skip, saying so, where Chromium is not installed (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.request import Request, urlopen

import pytest

from bot.sandbox.demo import AGENT_ALEX, MANAGER, REQUESTER, SUPPORT
from tests.waits import wait_until

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
START_TIMEOUT = 90  # generous: a loaded CI box; bench/bench_demo.py measures the start
WAIT = 60
PRODUCTION_DB = b"the production database: not for the demo"


@dataclass
class Demo:
    url: str
    workdir: Path
    process: subprocess.Popen[str]
    ready_line: str
    errors: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pump(stream: IO[str], to: Callable[[str], None]) -> None:
    for line in stream:
        to(line)


def start_demo(workdir: Path, *arguments: str) -> Demo:
    """`slabot demo` in `workdir`, once it said it is ready."""
    port = _free_port()
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "HOME": os.environ.get("HOME", str(workdir)), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--port", str(port), *arguments],
        cwd=workdir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout, process.stderr
    lines: queue.Queue[str] = queue.Queue()
    demo = Demo(f"http://127.0.0.1:{port}", workdir, process, "")

    def pump_out() -> None:
        _pump(out, lines.put)
        lines.put("")  # its output closed: the demo exited (no need to wait the timeout out)

    threading.Thread(target=pump_out, daemon=True).start()
    threading.Thread(target=_pump, args=(err, demo.errors.append), daemon=True).start()
    with suppress(queue.Empty):
        demo.ready_line = lines.get(timeout=START_TIMEOUT)
    if not demo.ready_line:
        stop_demo(demo)
        pytest.fail(f"slabot demo exited, or said nothing for {START_TIMEOUT}s, before it was "
                    "ready: " + "".join(demo.errors)[-2000:])
    assert "http://127.0.0.1:" in demo.ready_line, demo.ready_line + "".join(demo.errors)
    return demo


def stop_demo(demo: Demo) -> None:
    """Ctrl-C's equivalent (SIGTERM): the demo saves its sandbox and stops."""
    demo.process.terminate()
    try:
        demo.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        demo.process.kill()
        demo.process.wait()


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    workdir = Path(tempfile.mkdtemp(prefix="slabot-demo-test-"))
    production = workdir / "slabot.db"
    production.write_bytes(PRODUCTION_DB)
    os.utime(production, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    running = start_demo(workdir, "--first-response", "20s", "--resolution", "1m")
    try:
        yield running
    finally:
        stop_demo(running)
        shutil.rmtree(workdir, ignore_errors=True)


def _get(url: str) -> tuple[int, str]:
    with urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_demo_starts_with_no_environment_and_leaves_slabot_db_alone(demo: Demo) -> None:
    status, page = _get(demo.url + "/")
    assert status == 200
    assert "Local Slack sandbox" in page and "# support" in page
    production = demo.workdir / "slabot.db"
    assert production.read_bytes() == PRODUCTION_DB
    assert production.stat().st_mtime_ns == 1_700_000_000_000_000_000  # not even touched
    assert (demo.workdir / "slabot-demo.db").stat().st_size > 0
    assert "seeded" in demo.ready_line  # the history went into the demo database


def test_history_answers_sla_status_at_once(demo: Demo) -> None:
    """The seeded 90 days are there before anyone posts: /sla report has tickets to count."""
    body = json.dumps({"as": MANAGER.id, "channel": SUPPORT.id, "text": "/sla report 90d"})
    request = Request(demo.url + "/sandbox/post", data=body.encode(), method="POST",
                      headers={"Content-Type": "application/json"})
    with urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["ok"] is True

    def main_pane_with_the_report() -> str | None:
        _, fragments = _get(f"{demo.url}/sandbox/fragments?as={MANAGER.id}&c={SUPPORT.id}")
        main = str(json.loads(fragments)["main"])
        return main if "SLA compliance report" in main else None

    # The answer travels bot -> response_url -> sandbox.
    main = wait_until(main_pane_with_the_report, "the /sla report answer in the sandbox", WAIT)
    assert "last 90 days" in main and "Only visible to you" in main


def _post(demo: Demo, person: str, text: str) -> None:
    body = json.dumps({"as": person, "channel": SUPPORT.id, "text": text})
    request = Request(demo.url + "/sandbox/post", data=body.encode(), method="POST",
                      headers={"Content-Type": "application/json"})
    with urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["ok"] is True


def _support_as_seen_by_rita(demo: Demo) -> str:
    _, fragments = _get(f"{demo.url}/sandbox/fragments?as={REQUESTER.id}&c={SUPPORT.id}")
    return str(json.loads(fragments)["main"])


def _count_tickets(database: Path, containing: str = "") -> int:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM tickets WHERE text LIKE ?",
                              (f"%{containing}%",)).fetchone()[0])
    finally:
        db.close()


def _seeded(ready_line: str) -> int:
    """N of "seeded N tickets" in the ready line."""
    assert "seeded " in ready_line, ready_line
    return int(ready_line.split("seeded ")[1].split()[0])


def test_reset_starts_over_and_a_plain_restart_keeps_the_demo_data(tmp_path: Path) -> None:
    """In an empty directory: a first start seeds; a restart keeps the database and the
    sandbox as they were; --reset wipes both and seeds afresh. No slabot.db ever appears."""
    database, marker = tmp_path / "slabot-demo.db", "The badge reader at door 3 is dead (reset)"
    first = start_demo(tmp_path)
    try:
        _seeded(first.ready_line)
        _post(first, REQUESTER.id, marker)
        # The bot files it through its inbox.
        wait_until(lambda: _count_tickets(database, marker), "the request as a ticket", WAIT)
    finally:
        stop_demo(first)

    kept = start_demo(tmp_path)
    try:
        assert "seeded" not in kept.ready_line
        assert marker in _support_as_seen_by_rita(kept)
    finally:
        stop_demo(kept)
    assert _count_tickets(database, marker) == 1

    reset = start_demo(tmp_path, "--reset")
    try:
        reseeded = _seeded(reset.ready_line)
        assert marker not in _support_as_seen_by_rita(reset)
    finally:
        stop_demo(reset)
    assert _count_tickets(database, marker) == 0
    assert _count_tickets(database) == reseeded  # the fresh history and nothing else
    assert not (tmp_path / "slabot.db").exists()


# ---------------------------------------------------------------------------- browser
@pytest.fixture
def browser(demo: Demo) -> Iterator[object]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Chromium is not installed (/usr/bin/chromium, /usr/bin/chromedriver): "
                    "apt-get install chromium chromium-driver, as .ci/run does")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="slabot-chromium-")
    for argument in ("--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                     "--window-size=1400,900"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_a_request_travels_through_the_real_bot_in_the_browser(demo: Demo, browser) -> None:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = browser
    # The page swaps in fresh fragments as the bot works: elements go stale, look again.
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException))

    def live() -> None:
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-live")
                   == "1")

    def pane(name: str) -> str:
        return driver.find_element(By.ID, name).text

    def card():
        return driver.find_element(By.CSS_SELECTOR, "#thread article.from-app .bk-actions"
                                   ).find_element(By.XPATH, "ancestor::article")

    def click(css: str) -> bool:
        driver.find_element(By.CSS_SELECTOR, css).click()
        return True

    # Rita asks for help in #support.
    driver.get(f"{demo.url}/?as={REQUESTER.id}&c={SUPPORT.id}")
    live()
    request = "The Lyon office printer shows error 42 (browser test)"
    composer = driver.find_element(By.CSS_SELECTOR, "main form.composer textarea")
    composer.send_keys(request, Keys.ENTER)
    wait.until(lambda d: request in pane("main"))
    # The bot answers in the thread: open it and find the ticket card.
    wait.until(lambda d: click("#main a.replies"))
    live()
    wait.until(lambda d: "Open" in card().text and "Requester @rita" in card().text)
    key = card().text.split(" · ")[0].split()[-1]
    assert key.startswith("SLA-")
    # With a 20 s first-response target, the 50% nudge lands in the thread in about 10 s.
    wait.until(lambda d: f"{key} First response due in" in pane("thread"))
    assert "50% of the 20s target" in pane("thread")

    # Alex takes it: a reply in the thread is the first response and makes Alex assignee.
    Select(driver.find_element(By.ID, "person")).select_by_value(AGENT_ALEX.id)
    live()
    reply = driver.find_element(By.CSS_SELECTOR, ".thread-pane form.composer textarea")
    reply.send_keys("On it, checking the printer queue", Keys.ENTER)
    wait.until(lambda d: "Assignee @alex" in card().text)
    assert "On it, checking the printer queue" in pane("thread")

    # Resolve from the card's button: the card is edited in place.
    wait.until(lambda d: click("#thread button[data-action-id='ticket_resolve']"))
    wait.until(lambda d: "Resolved" in card().text)
    assert wait.until(lambda d: d.find_elements(
        By.CSS_SELECTOR, "#thread button[data-action-id='ticket_reopen']"))

    # /sla status answers privately in the channel.
    status = driver.find_element(By.CSS_SELECTOR, "main form.composer textarea")
    status.send_keys("/sla status", Keys.ENTER)
    wait.until(seen.text_to_be_present_in_element((By.ID, "main"), "SLA status for"))
    answer = wait.until(lambda d: d.find_element(
        By.XPATH, "//article[contains(., 'SLA status for')]").text)
    assert "Only visible to you" in answer
    # Everything above arrived over the event stream, without reloading the page.
    assert int(driver.find_element(By.TAG_NAME, "body").get_attribute("data-refreshed")) > 0


def test_open_the_portal_signs_in_as_the_person_picked(demo: Demo, browser) -> None:
    """The sandbox's own Sign in with Slack: the manager sees the overview; switch to a
    member and open the portal again, and it is their channels only."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=(
        NoSuchElementException, StaleElementReferenceException))
    sandbox_tab = driver.current_window_handle

    def pick(person: str) -> None:
        driver.switch_to.window(sandbox_tab)
        Select(driver.find_element(By.ID, "person")).select_by_value(person)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-as")
                   == person)

    def open_portal() -> str:
        """Click "Open the portal"; the text of the signed-in header in its new tab."""
        before = set(driver.window_handles)
        driver.find_element(By.ID, "open-portal").click()
        wait.until(lambda d: len(set(d.window_handles) - before) == 1)
        driver.switch_to.window((set(driver.window_handles) - before).pop())
        return wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "form.signout").text)

    driver.get(f"{demo.url}/?c={SUPPORT.id}")
    assert "no password" in driver.find_element(By.CSS_SELECTOR, "header.top").text
    pick(MANAGER.id)
    assert "Morgan" in open_portal()
    assert driver.current_url.endswith("/portal/overview")
    assert driver.find_element(By.TAG_NAME, "h1").text == "All channels"
    assert "#support" in driver.find_element(By.ID, "main").text
    portal = driver.current_url.removesuffix("/portal/overview")

    pick(REQUESTER.id)
    assert "Rita" in open_portal()
    assert driver.find_element(By.TAG_NAME, "h1").text == "My channels"
    assert driver.find_element(By.CSS_SELECTOR, "ul.channels").text == "#support"
    assert "Overview" not in driver.find_element(By.CSS_SELECTOR, "header.top").text
    driver.get(portal + "/portal/overview")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Not found"
