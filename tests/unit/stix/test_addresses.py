"""Integer spans of IP values agree with ``ipaddress`` (they only make it faster)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityshield.stix.addresses import blocks, merged, parse_span, span_of, span_of_network


@pytest.mark.parametrize(
    "value",
    ["198.51.100.7", "198.51.100.0/24", "0.0.0.0/0", "2001:db8::1", "2001:db8::/32", "::"],
)
def test_normal_forms_are_read_fast(value: str) -> None:
    span = span_of(value)
    assert span == span_of_network(ipaddress.ip_network(value))
    assert span is not None and span.text == value


@pytest.mark.parametrize(
    "value",
    [
        "198.51.100.7/24",
        "198.51.100.7/32",
        "010.0.0.1",
        "2001:DB8::1",
        "1.2.3",
        "x",
        "1.2.3.4/ 8",
        "1.2.3.4/08",
        "2001:db8::/128",
        "",
    ],
)
def test_anything_else_is_left_to_ipaddress(value: str) -> None:
    assert span_of(value) is None


def test_parse_span_falls_back_to_ipaddress() -> None:
    assert parse_span("198.51.100.7/24") == span_of("198.51.100.0/24")
    assert parse_span("2001:DB8::1") == span_of("2001:db8::1")
    assert parse_span("not an address") is None


v4 = st.integers(0, 2**32 - 1)


@given(v4, v4)
def test_blocks_are_summarize_address_range(a: int, b: int) -> None:
    first, last = min(a, b), max(a, b)
    expected = ipaddress.summarize_address_range(
        ipaddress.IPv4Address(first), ipaddress.IPv4Address(last)
    )
    assert [ipaddress.ip_network(b.text) for b in blocks(4, first, last)] == list(expected)


@given(st.lists(st.tuples(v4, st.integers(24, 32)), max_size=30))
def test_merged_is_collapse_addresses(items: list[tuple[int, int]]) -> None:
    nets = [ipaddress.IPv4Network((n >> (32 - p) << (32 - p), p)) for n, p in items]
    got = [ipaddress.ip_network(s.text) for s in merged(span_of_network(n) for n in nets)]
    assert got == list(ipaddress.collapse_addresses(nets))
