"""Firewall-safe values: URL forms, range limits, collapsing, what a list may hold."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityshield.exports.values import ValueLimits, bare_url, collapse, exportable
from cityshield.stix.addresses import parse_span, span_of_network

LIMITS = ValueLimits(widest_ipv4=16, widest_ipv6=32)


@pytest.mark.parametrize(
    ("url", "bare"),
    [
        ("http://evil.example/a/b", "evil.example/a/b"),
        ("https://evil.example:8443/login?next=1#top", "evil.example/login?next=1"),
        ("http://user:secret@evil.example/", "evil.example/"),
        ("http://EVIL.example", "evil.example"),
        ("http://[2001:db8::1]:8080/x", "[2001:db8::1]/x"),
        ("http://evil.example/*", None),  # a PAN-OS wildcard
        ("http://evil.example/a^b", None),
        ("mailto:someone", None),
    ],
)
def test_bare_urls(url: str, bare: str | None) -> None:
    assert bare_url(url) == bare


@pytest.mark.parametrize(
    ("value", "wide"),
    [
        ("10.0.0.0/8", True),
        ("10.0.0.0/15", True),
        ("10.0.0.0/16", False),
        ("10.1.2.3", False),
        ("2001:db8::/31", True),
        ("2001:db8::/32", False),
        ("2001:db8::1", False),
    ],
)
def test_ranges_wider_than_the_limits(value: str, wide: bool) -> None:
    span = parse_span(value)
    assert span is not None and LIMITS.too_wide(span) is wide


def test_exportable_values_are_their_types_own_value() -> None:
    assert exportable("ipv4-addr", "ipv4-addr:value=198.51.100.1", "198.51.100.1")
    assert exportable("ipv6-addr", "ipv6-addr:value=2001:db8::/48", "2001:db8::/48")
    assert not exportable("ipv4-addr", "ipv4-addr:value=2001:db8::1", "2001:db8::1")
    sha = "a" * 64
    assert exportable("file", f"file:hashes.'SHA-256'={sha}", sha)
    assert not exportable("file", "file:name=evil.exe", "evil.exe")
    assert not exportable(
        "domain-name", "domain-name:resolves_to_refs[*].value=x.example", "x.example"
    )
    assert not exportable("ipv4-addr", "ipv4-addr:value=999.1.1.1", "999.1.1.1")
    assert not exportable("ipv4-addr", "ipv4-addr:value=010.0.0.1", "010.0.0.1")
    assert not exportable("url", "url:value=http://a.example/\nb", "http://a.example/\nb")
    assert not exportable("ipv4-addr", "ipv4-addr:value=198.51.100.1", None)


def texts(values: list[str]) -> list[str]:
    spans = [parse_span(v) for v in values]
    return [block.text for block in collapse([s for s in spans if s], LIMITS)]


def test_collapse_merges_neighbours_and_splits_at_the_limit() -> None:
    assert texts(["100.70.0.0/16", "100.71.0.0/16", "198.18.0.0/24", "198.18.1.0/24"]) == [
        "100.70.0.0/16",
        "100.71.0.0/16",
        "198.18.0.0/23",
    ]
    assert texts(["2001:db8::", "2001:db8::1", "192.0.2.1"]) == ["192.0.2.1", "2001:db8::/127"]


networks = st.builds(
    lambda n, prefix: ipaddress.IPv4Network((n >> (32 - prefix) << (32 - prefix), prefix)),
    st.integers(0, 2**32 - 1),
    st.sampled_from([32, 31, 30, 24, 17, 16, 12]),
)


@given(st.lists(networks, max_size=40))
def test_collapsing_keeps_exactly_the_addresses_and_never_adds_lines(
    nets: list[ipaddress.IPv4Network],
) -> None:
    wide = [n for n in nets if n.prefixlen >= 16]
    out = collapse([span_of_network(n) for n in wide], LIMITS)
    assert len(out) <= len(set(wide))
    assert all(block.prefixlen >= 16 for block in out)
    expected = list(ipaddress.collapse_addresses(wide))
    got = list(ipaddress.collapse_addresses(ipaddress.ip_network(b.text) for b in out))
    assert got == expected
