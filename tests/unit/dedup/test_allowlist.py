"""The allowlist finds the network an IOC overlaps by lookup; it must name the same one
(the first in the allowlist's order) as a scan of every network would."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from cityshield.dedup.allowlist import Allowlist, IPNetwork, load_allowlist


def scanned(networks: tuple[IPNetwork, ...], value: str) -> str | None:
    """The reason as the allowlist used to find it: a scan in order."""
    network = ipaddress.ip_network(value, strict=False)
    for allowed in networks:
        if network.version == allowed.version and network.overlaps(allowed):
            return f"overlaps allowlisted network {allowed}"
    return None


def v4_network(draw: st.DrawFn) -> IPNetwork:
    # Addresses from a small range, so that generated blocks often nest and collide.
    address = draw(st.integers(0, 2**12 - 1)) << 20
    return ipaddress.ip_network((address, draw(st.integers(4, 32))), strict=False)


@st.composite
def networks(draw: st.DrawFn) -> IPNetwork:
    if draw(st.booleans()):
        return v4_network(draw)
    address = draw(st.integers(0, 2**8 - 1)) << 120
    return ipaddress.ip_network((address, draw(st.integers(1, 128))), strict=False)


@settings(max_examples=300, deadline=None)
@given(st.lists(networks(), max_size=12), networks())
def test_the_lookup_names_what_a_scan_names(allowed: list[IPNetwork], ioc: IPNetwork) -> None:
    allowlist = Allowlist(networks=tuple(allowed))
    kind = "ipv4-addr" if ioc.version == 4 else "ipv6-addr"
    assert allowlist.reason(kind, str(ioc)) == scanned(allowlist.networks, str(ioc))


def test_the_shipped_allowlist() -> None:
    allowlist = load_allowlist()
    for value in ["10.1.2.3", "8.8.8.8", "192.168.0.0/16", "0.0.0.0/0", "::1", "2001:db8::/32"]:
        kind = "ipv6-addr" if ":" in value else "ipv4-addr"
        assert allowlist.reason(kind, value) == scanned(allowlist.networks, value), value
    assert allowlist.reason("ipv4-addr", "not an address") is None
