"""IP address values as integer spans, for checks over many values at once.

Building an :mod:`ipaddress` object costs 10-20 us; an export of 300,000 addresses checks
each against the range limits and the allowlist, then sorts and may merge them, which took
seconds that way. A value in its normal form (what dedup stores, ``stix.normalize``: the
canonical text, a host without ``/32`` or ``/128``, a block with its host bits clear) is read
with ``inet_pton`` in well under a microsecond. Anything else gives None and is left to
:mod:`ipaddress` by the caller, so this is only ever a faster way to the same answer.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_FAMILIES = {4: (socket.AF_INET, 32), 6: (socket.AF_INET6, 128)}


@dataclass(frozen=True, slots=True)
class Span:
    """Addresses ``first..last`` of one family: a host or a CIDR block of ``prefixlen``."""

    version: int
    first: int
    last: int
    prefixlen: int

    def overlaps(self, other: Span) -> bool:
        return (
            self.version == other.version and self.first <= other.last and other.first <= self.last
        )

    @property
    def text(self) -> str:
        """A host as an address, a block as CIDR (the stored normal form)."""
        family, width = _FAMILIES[self.version]
        host = socket.inet_ntop(family, self.first.to_bytes(width // 8, "big"))
        return host if self.prefixlen == width else f"{host}/{self.prefixlen}"


def span_of(value: str) -> Span | None:
    """The span of an address or block written in normal form; None for anything else."""
    host, slash, bits = value.partition("/")
    version = 6 if ":" in host else 4
    family, width = _FAMILIES[version]
    try:
        packed = socket.inet_pton(family, host)
    except (OSError, ValueError):
        return None
    if socket.inet_ntop(family, packed) != host:
        return None
    prefixlen = width
    if slash:
        if not (bits.isascii() and bits.isdigit()) or str(int(bits)) != bits:
            return None
        prefixlen = int(bits)
        if prefixlen >= width:
            return None  # the normal form of /32 (/128) is the bare address
    first = int.from_bytes(packed, "big")
    size = 1 << (width - prefixlen)
    if first & (size - 1):
        return None
    return Span(version, first, first + size - 1, prefixlen)


def span_of_network(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Span:
    return Span(
        network.version,
        int(network.network_address),
        int(network.broadcast_address),
        network.prefixlen,
    )


def parse_span(value: str) -> Span | None:
    """Any address or block (:mod:`ipaddress` rules, host bits ignored), fast when normal."""
    span = span_of(value)
    if span is not None:
        return span
    try:
        return span_of_network(ipaddress.ip_network(value, strict=False))
    except ValueError:
        return None


def blocks(version: int, first: int, last: int) -> Iterator[Span]:
    """The fewest CIDR blocks that hold exactly ``first..last``
    (:func:`ipaddress.summarize_address_range`, on integers)."""
    width = _FAMILIES[version][1]
    while first <= last:
        size = first & -first if first else 1 << width
        while size > last - first + 1:
            size >>= 1
        yield Span(version, first, first + size - 1, width - size.bit_length() + 1)
        first += size


def merged(spans: Iterable[Span]) -> list[Span]:
    """The fewest blocks holding exactly the addresses of ``spans``
    (:func:`ipaddress.collapse_addresses`), IPv4 first, each family in address order."""
    out: list[Span] = []
    current: tuple[int, int, int] | None = None
    for span in sorted(spans, key=lambda s: (s.version, s.first)):
        if current and span.version == current[0] and span.first <= current[2] + 1:
            current = (current[0], current[1], max(current[2], span.last))
            continue
        if current:
            out.extend(blocks(*current))
        current = (span.version, span.first, span.last)
    if current:
        out.extend(blocks(*current))
    return out
