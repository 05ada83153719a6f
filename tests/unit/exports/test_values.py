"""Firewall-safe values: URL forms, range limits, collapsing, what a list may hold."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityshield.exports.values import ValueLimits, bare_url, collapse, exportable, network_text

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
    assert LIMITS.too_wide(ipaddress.ip_network(value)) is wide


def test_exportable_values_are_their_types_own_value() -> None:
    assert exportable("ipv4-addr", "ipv4-addr:value=198.51.100.1", "198.51.100.1")
    sha = "a" * 64
    assert exportable("file", f"file:hashes.'SHA-256'={sha}", sha)
    assert not exportable("file", "file:name=evil.exe", "evil.exe")
    assert not exportable(
        "domain-name", "domain-name:resolves_to_refs[*].value=x.example", "x.example"
    )
    assert not exportable("ipv4-addr", "ipv4-addr:value=999.1.1.1", "999.1.1.1")
    assert not exportable("url", "url:value=http://a.example/\nb", "http://a.example/\nb")
    assert not exportable("ipv4-addr", "ipv4-addr:value=198.51.100.1", None)


def test_collapse_merges_neighbours_and_splits_at_the_limit() -> None:
    nets = [
        ipaddress.ip_network(n)
        for n in ("100.70.0.0/16", "100.71.0.0/16", "198.18.0.0/24", "198.18.1.0/24")
    ]
    assert [network_text(n) for n in collapse(nets, LIMITS)] == [
        "100.70.0.0/16",
        "100.71.0.0/16",
        "198.18.0.0/23",
    ]
    hosts = [ipaddress.ip_network(h) for h in ("2001:db8::", "2001:db8::1", "192.0.2.1")]
    assert [network_text(n) for n in collapse(hosts, LIMITS)] == ["192.0.2.1", "2001:db8::/127"]


addresses = st.integers(0, 2**32 - 1).map(
    lambda n: ipaddress.IPv4Network((n & ~0xFF | (n % 7), 32))
)


@given(
    st.lists(
        addresses
        | st.integers(0, 2**32 - 1).map(lambda n: ipaddress.IPv4Network((n & ~0xFFFF, 16))),
        max_size=40,
    )
)
def test_collapsing_keeps_exactly_the_addresses_and_never_adds_lines(
    networks: list[ipaddress.IPv4Network],
) -> None:
    out = collapse(networks, LIMITS)
    assert len(out) <= len(set(networks))
    assert all(n.prefixlen >= 16 for n in out)

    def span(nets: list[ipaddress.IPv4Network]) -> list[tuple[int, int]]:
        return [
            (int(n.network_address), int(n.broadcast_address))
            for n in ipaddress.collapse_addresses(nets)
        ]

    assert span(out) == span(networks)  # type: ignore[arg-type]
