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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

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
