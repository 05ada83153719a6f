"""The web page in a real headless Chromium against the real hub (uvicorn, SQLite and
PostgreSQL): sign in, the dashboard as the member may see it, sign out; a form posted from
another page refused; the security headers the browser enforces.

Each backend gets a hub of its own, so the dashboard shows exactly this module's network.
Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from selenium.webdriver.common.by import By

from cityshield.db import session_scope
from cityshield.delivery.credentials import cipher
from cityshield.delivery.targets import TargetSpec, register_target
from cityshield.stix.vocabulary import TLP2_IDS
from cityshield.timefmt import now_micros
from tests.conftest import BACKENDS, database_url
from tests.utils.browser import (
    Chrome,
    attacker_page,
    chromium,
    column,
    console_errors,
    screenshot,
    sign_in,
    wait_for,
)
from tests.utils.server import Hub, TestMember, running_hub, submit
from tests.utils.stix import fresh_ipv4, indicator

TLP_RED = TLP2_IDS["red"]


@dataclass
class Network:
    """Two cities of one region: ``viewer`` signs in; ``other`` shares one IOC with it
    (TLP:GREEN) and keeps one to itself (TLP:RED)."""

    hub: Hub
    viewer: TestMember
    other: TestMember
    own: list[str]
    shared: str
    red: str


@pytest.fixture(scope="module", params=BACKENDS)
def network(request: pytest.FixtureRequest) -> Iterator[Network]:
    with running_hub(request.param, database_url(request.param, request)) as hub:
        viewer = hub.member(groups=["north"], name="riverton")
        other = hub.member(groups=["north"], name="lakeside")
        own, shared, red = [fresh_ipv4(), fresh_ipv4()], fresh_ipv4(), fresh_ipv4()
        submit(hub, viewer, *(indicator(value=v, confidence=60) for v in [*own, shared]))
        submit(
            hub,
            other,
            indicator(value=shared, confidence=70),
            indicator(value=red, object_marking_refs=[TLP_RED]),
        )
        yield Network(hub, viewer, other, own, shared, red)


@pytest.fixture
def browser() -> Iterator[Chrome]:
    with chromium() as driver:
        yield driver


def test_sign_in_see_the_dashboard_and_sign_out(network: Network, browser: Chrome) -> None:
    hub = network.hub
    sign_in(browser, hub, network.viewer)
    assert browser.current_url == f"{hub.base_url}/ui/"
    assert browser.find_element(By.CSS_SELECTOR, "header .who").text.startswith("riverton")
    screenshot(browser, f"dashboard-{hub.backend}")

    newest = column(browser, "newest-table", 0)
    assert {*network.own, network.shared} == set(newest)
    top = browser.find_element(By.CSS_SELECTOR, "#corroborated-table tbody tr")
    cells = [td.text for td in top.find_elements(By.TAG_NAME, "td")]
    assert cells[0] == network.shared
    assert cells[2] == "2", "both cities reported the shared IOC"
    assert cells[5] == "88", "noisy-OR of 60 and 70"

    bars = browser.find_elements(By.CSS_SELECTOR, "#submissions-chart rect.bar")
    assert len(bars) == 30
    counts = [int(bar.get_attribute("data-count") or "0") for bar in bars]
    assert sum(counts) == 4, "the viewer's three reports and its neighbour's GREEN one"
    assert "No push target" in browser.find_element(By.ID, "delivery").text
    assert browser.find_elements(By.ID, "jobs") == [], "job health is for admins"
    assert network.red not in browser.page_source

    browser.find_element(By.ID, "signout").click()
    notice = wait_for(browser, "notice")
    assert notice.text == "You are signed out."
    browser.get(f"{hub.base_url}/ui/")
    wait_for(browser, "signin-form")
    assert browser.find_elements(By.ID, "notice") == []
    screenshot(browser, f"signed-out-{hub.backend}")
    assert console_errors(browser) == []


def test_a_red_report_counts_nowhere_in_the_network_not_even_for_its_author(
    network: Network, browser: Chrome
) -> None:
    sign_in(browser, network.hub, network.other)
    counts = [
        int(bar.get_attribute("data-count") or "0")
        for bar in browser.find_elements(By.CSS_SELECTOR, "#submissions-chart rect.bar")
    ]
    assert sum(counts) == 4, "its GREEN report and the viewer's three; never its RED one"
    assert network.red not in column(browser, "newest-table", 0)


def test_a_wrong_token_is_refused_on_the_form(network: Network, browser: Chrome) -> None:
    browser.get(f"{network.hub.base_url}/ui/signin")
    wait_for(browser, "signin-form")
    browser.find_element(By.ID, "name").send_keys(network.viewer.name)
    browser.find_element(By.ID, "token").send_keys(network.other.token)
    browser.find_element(By.ID, "signin").click()
    assert wait_for(browser, "error").text == "Unknown member name or wrong token."
    assert browser.find_element(By.ID, "name").get_attribute("value") == network.viewer.name
    assert browser.find_element(By.ID, "token").get_attribute("value") == ""
    screenshot(browser, f"signin-refused-{network.hub.backend}")
    browser.get(f"{network.hub.base_url}/ui/")
    wait_for(browser, "signin-form")


def test_an_admin_sees_every_delivery_and_the_jobs(network: Network, browser: Chrome) -> None:
    hub = network.hub
    admin = hub.member(role="admin", name="hub-admin")
    with session_scope(hub.engine) as session:
        register_target(
            session,
            member_name=network.other.name,
            spec=TargetSpec("https://taxii.lakeside.example/api1/", "c"),
            fernet=cipher(hub.settings.home),
            now_us=now_micros(),
        )
    sign_in(browser, hub, admin)
    assert column(browser, "delivery-table", 0) == [network.other.name]
    jobs = column(browser, "jobs-table", 0)
    assert {"delivery", "network-publication"} <= set(jobs)
    screenshot(browser, f"dashboard-admin-{hub.backend}")


def test_a_form_posted_from_another_page_is_refused(network: Network, browser: Chrome) -> None:
    hub = network.hub
    sign_in(browser, hub, network.viewer)
    with attacker_page(f"{hub.base_url}/ui/signout", {"x": "1"}) as url:
        browser.get(url)
        browser.find_element(By.ID, "claim").click()
        problem = wait_for(browser, "problem")
    assert "Form refused" in problem.text
    assert "security token is missing or wrong" in problem.text
    screenshot(browser, f"csrf-refused-{hub.backend}")
    browser.get(f"{hub.base_url}/ui/")
    wait_for(browser, "newest")  # still signed in: the forged sign-out did nothing


def test_security_headers_and_the_stylesheet_under_them(network: Network, browser: Chrome) -> None:
    hub = network.hub
    with httpx.Client(base_url=hub.base_url) as client:
        for path in ("/ui/signin", "/ui/", "/ui/no-such-page", "/ui/static/cityshield.css"):
            headers = client.get(path).headers
            csp = headers["content-security-policy"]
            assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
            assert "script-src" not in csp and "unsafe-inline" not in csp, path
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"] == "no-referrer", path
            static = path.startswith("/ui/static/")
            assert (headers["cache-control"] == "no-store") != static, path
    sign_in(browser, hub, network.viewer)
    header = browser.find_element(By.CSS_SELECTOR, "header.top")
    assert header.value_of_css_property("background-color") == "rgba(16, 36, 62, 1)"
    assert console_errors(browser) == [], "the page breaks none of its own policy"
