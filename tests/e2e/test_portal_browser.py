"""The portal in a real browser: Debian's chromium driven by Selenium through chromedriver.

Signs in with Slack (the fake's authorize page), opens every page, switches periods by link
and by the month picker with the keyboard, downloads a CSV, opens a customer link, and
checks that no page scrolls sideways at desktop or phone width. Skips, saying why, when
chromium, chromedriver or selenium is missing (.ci/run installs them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import ADMIN, CHANNEL, REQUESTER, stop_bot
from tests.e2e.portal_helpers import portal_bot, replay_history
from tests.e2e.verbs_helpers import ask

pytestmark = pytest.mark.slow  # a real browser: chromium and chromedriver processes

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESKTOP = (1280, 900)
PHONE = (375, 740)

selenium = pytest.importorskip("selenium", reason="selenium is not installed (pip install "
                               "-e '.[test]')")
if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip(f"needs {CHROMIUM} and {CHROMEDRIVER}: apt-get install chromium "
                "chromium-driver (.ci/run does)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path):
    """Headless chromium with a fresh profile and a download folder."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'profile'}",
                 f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)


@pytest.fixture
def seeded(engine, db_url, fake_slack, clock, portal_history):
    harness = portal_bot(db_url, engine, fake_slack, clock)
    try:
        replay_history(harness, portal_history)
        yield harness
        harness.settle()
    finally:
        stop_bot(harness)


def _wait(driver, condition, timeout: float = 15):
    return WebDriverWait(driver, timeout).until(condition)


def _no_sideways_scroll(driver) -> None:
    for width, height in (DESKTOP, PHONE):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1,
            "mobile": width < 600})
        scroll, client = driver.execute_script(
            "return [document.documentElement.scrollWidth, "
            "document.documentElement.clientWidth]")
        assert scroll <= client, (driver.current_url, width, scroll, client)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _click_link(driver, text: str) -> None:
    before = driver.current_url
    driver.find_element(By.PARTIAL_LINK_TEXT, text).click()
    _wait(driver, lambda d: d.current_url != before
          and d.execute_script("return document.readyState") == "complete")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # a browser test, one engine
def test_admin_walks_every_page_in_a_browser(seeded, browser):
    seeded.fake.sign_in_as(ADMIN, name="ada")
    browser.get(seeded.url + "/portal/")
    _no_sideways_scroll(browser)
    _click_link(browser, "Sign in with Slack")
    _wait(browser, lambda d: "/portal/overview" in d.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "All channels"
    assert browser.find_element(By.CSS_SELECTOR, "svg")  # the trend chart
    _no_sideways_scroll(browser)

    # Switch periods: a quick link, then the month picker with the keyboard only.
    _click_link(browser, "Last 7 days")
    assert "last 7 days" in browser.find_element(By.TAG_NAME, "legend").text
    picker = browser.find_element(By.ID, "period-month")
    label = browser.find_element(By.CSS_SELECTOR, "label[for=period-month]")
    assert label.text == "Month"
    picker.send_keys("November 2026")
    before = browser.current_url
    picker.send_keys(Keys.TAB, Keys.ENTER)  # focus moves to "Show"; Enter submits
    _wait(browser, lambda d: d.current_url != before)
    assert "period=2026-11" in browser.current_url
    assert "November 2026" in browser.find_element(By.TAG_NAME, "legend").text

    # A channel from the ranking, then a breached ticket, then the responders.
    _click_link(browser, "#support")
    assert browser.find_element(By.TAG_NAME, "h1").text == "#support"
    assert "Service credit per month" in browser.page_source
    _no_sideways_scroll(browser)
    _click_link(browser, "SLA-")
    assert "Timeline" in browser.page_source and "Targets" in browser.page_source
    _no_sideways_scroll(browser)
    _click_link(browser, "Responders")
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=responders] tbody tr")
    _no_sideways_scroll(browser)

    # Download the responders table as CSV.
    browser.find_element(By.PARTIAL_LINK_TEXT, "Download").click()
    csv_file = _wait(browser, lambda d: next(
        (p for p in d.downloads.glob("*.csv")), None))
    header = csv_file.read_text().splitlines()[0]
    assert header.startswith("person,user_id,first_responses")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_customer_opens_a_share_link_in_a_browser(seeded, browser):
    answer = ask(seeded, f"portal share <#{CHANNEL}|support>", channel=CHANNEL)
    url = next(word for word in answer.text.split() if "/portal/s/" in word)
    browser.get(url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "#support"
    assert "read-only" in browser.page_source and "Sign out" not in browser.page_source
    assert "printer on fire" not in browser.page_source
    _no_sideways_scroll(browser)
    _click_link(browser, "Last 90 days")
    assert "last 90 days" in browser.find_element(By.TAG_NAME, "legend").text

    # A member signing in sees their channel, never the private one.
    seeded.fake.sign_in_as(REQUESTER, name="rita")
    browser.delete_all_cookies()
    browser.get(seeded.url + "/portal/auth/login")
    _wait(browser, lambda d: "My channels" in d.page_source)
    assert "secret" not in browser.page_source
    _no_sideways_scroll(browser)
