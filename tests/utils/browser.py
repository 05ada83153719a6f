"""A real headless Chromium (Debian's ``chromium`` and ``chromium-driver``) under Selenium.

Nothing is downloaded: the driver is the system's (``Service(CHROMEDRIVER)``), the browser
binary is named, and ``SE_OFFLINE`` forbids Selenium Manager any network access. Missing
packages fail the test in CI (``.ci/run`` installs them) and skip it, loudly, elsewhere,
as the PostgreSQL fixture does.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.utils.server import Hub, TestMember

Chrome = webdriver.Chrome

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
"""Screenshots of the page under test (git-ignored)."""
ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1366,900",
)
WAIT_SECONDS = 20


def require_chromium() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} missing: apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(f"Chromium is required in CI ({message})")
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Chrome]:
    """A fresh browser with its own empty profile (no cookies from any earlier test)."""
    require_chromium()
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager: never fetch a driver or browser
    profile = tempfile.mkdtemp(prefix="cityshield-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (*ARGUMENTS, f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: Chrome, name: str) -> Path:
    """Save the whole page (not only the window) as ``test-artifacts/web/<name>.png``
    and print where."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")
    return path


def console_errors(driver: Chrome) -> list[str]:
    """What the browser logged as errors (a refused stylesheet or a CSP violation shows
    up here)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait_for(driver: WebDriver, element_id: str) -> Any:
    """The element with this id, once the page has it."""
    return WebDriverWait(driver, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.ID, element_id))
    )


def click_through(driver: WebDriver, element: Any) -> None:
    """Click a link or a form's button and wait until the next page replaced this one
    (the next may have elements of the same ids: waiting for those is not enough)."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, WAIT_SECONDS).until(lambda _driver: _gone(page))


def _gone(element: Any) -> bool:
    """Whether an element's document was replaced. Selenium's ``staleness_of`` knows only
    its stale-element error, but ChromeDriver may instead answer that the node "does not
    belong to the document" once the next document is there: either means it is gone."""
    try:
        element.is_enabled()
    except WebDriverException:
        return True
    return False


def sign_in(driver: WebDriver, hub: Hub, member: TestMember) -> None:
    """Through the form, as a person does; ends on the dashboard."""
    driver.get(f"{hub.base_url}/ui/")
    wait_for(driver, "signin-form")  # a signed-out browser is sent to the form
    driver.find_element(By.ID, "name").send_keys(member.name)
    driver.find_element(By.ID, "token").send_keys(member.token)
    driver.find_element(By.ID, "signin").click()
    wait_for(driver, "newest")


def column(driver: WebDriver, table_id: str, index: int, rows: str = "tr") -> list[str]:
    """The texts of one column of a table's body (of its ``rows``: a CSS selector)."""
    found = driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody {rows}")
    return [row.find_elements(By.TAG_NAME, "td")[index].text for row in found]


class _Attacker(BaseHTTPRequestHandler):
    """Another site's page with a form that posts to the hub (a CSRF attempt: same site
    as the hub, so the browser even sends the session cookie)."""

    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def attacker_page(target: str, fields: dict[str, str]) -> Iterator[str]:
    """The URL of a page on another port whose form (button ``claim``) posts ``fields``
    to ``target``, without the hub's CSRF token."""
    inputs = "".join(
        f'<input name="{escape(name)}" value="{escape(value)}">' for name, value in fields.items()
    )
    page = (
        "<!doctype html><title>prize</title>"
        f'<form method="post" action="{escape(target)}">{inputs}'
        '<button id="claim">Claim your prize</button></form>'
    ).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Attacker", (_Attacker,), {"page": page}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join(timeout=10)
