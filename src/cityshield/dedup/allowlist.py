"""Known-benign values: IOCs matching them are flagged and kept out of block exports."""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from cityshield.stix.addresses import Span, parse_span

DEFAULT_ALLOWLIST = Path(__file__).with_name("allowlist_default.yaml")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Allowlist:
    networks: tuple[IPNetwork, ...] = ()
    domains: frozenset[str] = field(default_factory=frozenset)

    def reason(self, observable_type: str, value: str | None) -> str | None:
        """Why a normalised IOC value is known-benign, or None."""
        if value is None:
            return None
        if observable_type in ("ipv4-addr", "ipv6-addr"):
            return self._network_reason(value)
        host = _host_of(observable_type, value)
        return self._domain_reason(host) if host else None

    def _network_reason(self, value: str) -> str | None:
        span = parse_span(value)
        return None if span is None else self.reason_for_span(span)

    def reason_for_span(self, span: Span) -> str | None:
        """Why addresses are known-benign, or None: on integer spans, not ``ipaddress``
        objects, because exports check every address they list."""
        first = self._index.first_overlap(span)
        return None if first is None else f"overlaps allowlisted network {self.networks[first]}"

    @cached_property
    def _index(self) -> _NetworkIndex:
        return _NetworkIndex(self.networks)

    def _domain_reason(self, host: str) -> str | None:
        labels = host.lower().rstrip(".").split(".")
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in self.domains:
                return f"within allowlisted domain {candidate}"
        return None


class _NetworkIndex:
    """Which allowlisted network an address block overlaps first (in the allowlist's
    order, as a scan would say), by lookup rather than a scan of every network per IOC
    (which was a tenth of the publisher's time).

    CIDR blocks are nested or disjoint, so a block overlaps an allowlisted one exactly
    when one contains the other: the allowlisted ones containing it are found by looking up
    its own address at each prefix length the allowlist uses, the ones inside it by a
    bisection of their sorted first addresses.
    """

    def __init__(self, networks: tuple[IPNetwork, ...]) -> None:
        self.exact: dict[tuple[int, int], dict[int, int]] = {}
        starts: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for index, network in enumerate(networks):
            at = self.exact.setdefault((network.version, network.prefixlen), {})
            at.setdefault(int(network.network_address), index)
            starts[network.version].append((int(network.network_address), index))
        self.prefixes = {
            version: sorted(p for v, p in self.exact if v == version) for version in (4, 6)
        }
        self.starts = {version: sorted(found) for version, found in starts.items()}

    def first_overlap(self, span: Span) -> int | None:
        version, bits = span.version, 32 if span.version == 4 else 128
        first, last = span.first, span.last
        found: list[int] = []
        for prefix in self.prefixes[version]:
            if prefix > span.prefixlen:
                break
            shift = bits - prefix
            index = self.exact[(version, prefix)].get(first >> shift << shift)
            if index is not None:
                found.append(index)
        starts = self.starts[version]
        for start, index in starts[bisect.bisect_left(starts, (first, -1)) :]:
            if start > last:
                break
            found.append(index)
        return min(found, default=None)


def _host_of(observable_type: str, value: str) -> str | None:
    if observable_type == "domain-name":
        return value
    if observable_type == "email-addr":
        return value.rpartition("@")[2] or None
    if observable_type == "url":
        try:
            return urlsplit(value).hostname
        except ValueError:
            return None
    return None


def _entries(data: Any, name: str, source: Path) -> list[str]:
    values = (data or {}).get(name, []) if isinstance(data, dict) else None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{source}: '{name}' must be a list of strings")
    return values


def load_allowlist(extra_files: list[Path] | tuple[Path, ...] = ()) -> Allowlist:
    """The shipped default set plus the network's own files (same YAML format)."""
    networks: list[IPNetwork] = []
    domains: set[str] = set()
    for path in (DEFAULT_ALLOWLIST, *extra_files):
        data = yaml.safe_load(path.read_text())
        for entry in _entries(data, "networks", path):
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as exc:
                raise ValueError(f"{path}: bad network {entry!r}: {exc}") from exc
        domains.update(d.lower().rstrip(".") for d in _entries(data, "domains", path))
    return Allowlist(networks=tuple(networks), domains=frozenset(domains))
