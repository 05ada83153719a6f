"""The analyst pages in a real headless Chromium against the real hub (uvicorn, SQLite and
PostgreSQL), as an analyst uses them during an incident: search a defanged value and find
it, open its detail, report a sighting and see the corroboration change, revoke it, paste
a bulk lookup; another city's TLP:RED value unknown on every page; a forged form refused.
Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select

from cityshield.dedup.iocs import key_digest
from cityshield.stix.vocabulary import TLP2_IDS
from tests.conftest import BACKENDS, database_url
from tests.utils.browser import (
    Chrome,
    attacker_page,
    chromium,
    click_through,
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
    """Two cities: ``viewer`` signs in and reported ``own`` (an address); ``other``
    reported ``shared`` (a domain, TLP:GREEN) and ``red`` (a domain it keeps to itself)."""

    hub: Hub
    viewer: TestMember
    other: TestMember
    own: str
    shared: str
    red: str


def domain_indicator(domain: str, **extra: object) -> dict[str, object]:
    return indicator(pattern=f"[domain-name:value = '{domain}']", **extra)


@pytest.fixture(scope="module", params=BACKENDS)
def network(request: pytest.FixtureRequest) -> Iterator[Network]:
    with running_hub(request.param, database_url(request.param, request)) as hub:
        viewer = hub.member(role="analyst", groups=["north"], name="riverton")
        other = hub.member(groups=["north"], name="lakeside")
        tag = uuid.uuid4().hex[:8]
        own, shared, red = fresh_ipv4(), f"tram-ticket-{tag}.example", f"red-{tag}.example"
        submit(hub, viewer, indicator(value=own, confidence=60))
        submit(
            hub,
            other,
            domain_indicator(shared, confidence=70),
            domain_indicator(red, object_marking_refs=[TLP_RED]),
        )
        yield Network(hub, viewer, other, own, shared, red)


@pytest.fixture
def browser() -> Iterator[Chrome]:
    with chromium() as driver:
        yield driver


def search(driver: WebDriver, text: str) -> None:
    """Through the nav link and the search box."""
    click_through(driver, driver.find_element(By.ID, "nav-search"))
    box = wait_for(driver, "q")
    box.clear()
    box.send_keys(text)
    click_through(driver, driver.find_element(By.ID, "search"))


def text_of(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def test_search_a_defanged_value_open_it_and_report_a_sighting(
    network: Network, browser: Chrome
) -> None:
    hub = network.hub
    sign_in(browser, hub, network.viewer)
    search(browser, network.shared.upper().replace(".", "[.]"))
    assert column(browser, "results-table", 0) == [network.shared]
    assert column(browser, "results-table", 8) == ["lakeside"], "reported by"
    screenshot(browser, f"search-{hub.backend}")

    click_through(browser, browser.find_element(By.LINK_TEXT, network.shared))
    assert wait_for(browser, "indicator-value").text == network.shared
    assert (text_of(browser, "members"), text_of(browser, "sightings-count")) == ("1", "0")
    assert column(browser, "reports-table", 1) == ["lakeside"]
    assert "valid" in column(browser, "reports-table", 7)[0], "its signature"

    browser.find_element(By.ID, "count").send_keys("3")
    browser.find_element(By.ID, "sighting-confidence").send_keys("80")
    Select(browser.find_element(By.ID, "sighting-tlp")).select_by_value("green")
    browser.find_element(By.ID, "description").send_keys("blocked at the tram-ticket proxy")
    click_through(browser, browser.find_element(By.ID, "report-sighting-button"))
    assert "is stored and counts" in wait_for(browser, "notice").text
    assert (text_of(browser, "members"), text_of(browser, "sightings-count")) == ("2", "1")
    assert text_of(browser, "contributors") == "lakeside, riverton", "its own, named to itself"
    assert column(browser, "sightings-table", 2) == ["TLP:GREEN"]
    assert "sighted" in text_of(browser, "timeline-list")
    screenshot(browser, f"indicator-sighted-{hub.backend}")

    click_through(browser, browser.find_element(By.CSS_SELECTOR, "#sightings-table button.revoke"))
    assert "is revoked" in wait_for(browser, "notice").text
    assert (text_of(browser, "members"), text_of(browser, "sightings-count")) == ("1", "0")
    assert console_errors(browser) == []


def test_dashboard_rows_open_their_detail_pages(network: Network, browser: Chrome) -> None:
    sign_in(browser, network.hub, network.viewer)
    browser.find_element(By.CSS_SELECTOR, "#newest-table").find_element(
        By.LINK_TEXT, network.own
    ).click()
    assert wait_for(browser, "indicator-value").text == network.own
    assert column(browser, "reports-table", 1) == ["riverton yours"]
    assert "Revoke…" in column(browser, "reports-table", 9)[0], "its own, signed by its key"


def test_paste_a_bulk_lookup(network: Network, browser: Chrome) -> None:
    hub = network.hub
    sign_in(browser, hub, network.viewer)
    click_through(browser, browser.find_element(By.ID, "nav-lookup"))
    unknown = fresh_ipv4()
    pasted = [
        network.shared.upper().replace(".", "[.]"),
        f"{network.own}/32",
        network.red,
        unknown,
        "not a value",
    ]
    wait_for(browser, "values").send_keys("\n".join(pasted))
    click_through(browser, browser.find_element(By.ID, "lookup"))
    assert wait_for(browser, "summary").text == "2 known of 5 (3 unknown)."
    assert column(browser, "lookup-table", 0) == pasted
    assert column(browser, "lookup-table", 1) == ["known", "known", "unknown", "unknown", "unknown"]
    assert column(browser, "lookup-table", 2, "tr.known") == [network.shared, network.own]
    named = column(browser, "lookup-table", 10, "tr.known")
    assert "lakeside" in named[0] and named[1] == "riverton", "reported by"
    screenshot(browser, f"lookup-{hub.backend}")
    assert console_errors(browser) == []


def test_another_citys_red_value_is_unknown_on_every_page(
    network: Network, browser: Chrome
) -> None:
    hub, red = network.hub, network.red
    sign_in(browser, hub, network.viewer)
    assert red not in browser.page_source, "the dashboard"
    search(browser, red)
    assert "No indicator you may see matches." in text_of(browser, "results")
    search(browser, "red-")
    assert red not in browser.page_source
    click_through(browser, browser.find_element(By.ID, "nav-lookup"))
    wait_for(browser, "values").send_keys(red)
    click_through(browser, browser.find_element(By.ID, "lookup"))
    assert wait_for(browser, "summary").text == "0 known of 1 (1 unknown)."
    ref = key_digest(f"domain-name:value={red}").hex()
    browser.get(f"{hub.base_url}/ui/indicators/{ref}")
    assert "HTTP 404" in wait_for(browser, "problem").text
    browser.get(f"{hub.base_url}/ui/indicators/{'0' * 32}")
    assert "HTTP 404" in wait_for(browser, "problem").text, "the same as no indicator at all"
    screenshot(browser, f"red-unknown-{hub.backend}")


def test_a_sighting_forged_from_another_page_is_refused(network: Network, browser: Chrome) -> None:
    hub = network.hub
    sign_in(browser, hub, network.viewer)
    ref = key_digest(f"domain-name:value={network.shared}").hex()
    browser.get(f"{hub.base_url}/ui/indicators/{ref}")
    before = text_of(browser, "sightings-count")
    with attacker_page(f"{hub.base_url}/ui/indicators/{ref}/sightings", {"count": "9"}) as url:
        browser.get(url)
        browser.find_element(By.ID, "claim").click()
        problem = wait_for(browser, "problem")
    assert "Form refused" in problem.text
    browser.get(f"{hub.base_url}/ui/indicators/{ref}")
    assert text_of(browser, "sightings-count") == before, "nothing was stored"
