"""Firewall-safe values: which IOC values may be exported, in which form.

Only values valid for their list: the type's own ``value`` (a file list holds hashes, not
names; ``domain-name:resolves_to_refs[*].value`` is not a domain) that passes
:func:`cityshield.stix.observables.observable_reason`. Ingest refuses invalid values, but
values stored before it did must not reach a firewall either: one line with a NUL byte or a
newline can break a whole list.

And only values a device reads as meant:

* no address range wider than the limits (by default /16 for IPv4, /32 for IPv6): one
  city's ``10.0.0.0/8`` on every firewall is an outage, not a block;
* URLs for PAN-OS lists and Zeek without scheme, port, credentials or fragment (their URL
  matching takes ``host/path``), and none containing ``*`` or ``^``, which PAN-OS reads as
  wildcards (``evil.example/*`` would block more than was reported);
* IPs optionally collapsed into the fewest CIDR blocks that hold exactly the same
  addresses, never wider than the limits (a wider block is split at the limit).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cityshield.stix.literals import unescape
from cityshield.stix.observables import observable_reason

EXPORT_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file")
PANOS_WILDCARDS = ("*", "^")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ValueLimits:
    """The widest address ranges an export may hold (``CITYSHIELD_EXPORT_WIDEST_*``)."""

    widest_ipv4: int = 16
    widest_ipv6: int = 32

    def too_wide(self, network: IPNetwork) -> bool:
        widest = self.widest_ipv4 if network.version == 4 else self.widest_ipv6
        return network.prefixlen < widest


def exportable(observable_type: str, key: str, value: str | None) -> bool:
    """A single-value IOC whose value belongs in its type's list (see module docstring).

    Its path is read back from the canonical key, ``type:path=value``.
    """
    prefix = f"{observable_type}:"
    if not value or not key.startswith(prefix) or not key.endswith(f"={value}"):
        return False
    path = key[len(prefix) : -len(value) - 1]
    if observable_type == "file":
        if not (path.startswith("hashes.'") and path.endswith("'")):
            return False
        steps: tuple[str, ...] = ("hashes", unescape(path[len("hashes.'") : -1]))
    elif path == "value":
        steps = ("value",)
    else:
        return False
    return observable_reason(observable_type, steps, value) is None


def ip_network(value: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None


def bare_url(url: str) -> str | None:
    """``host[/path][?query]``: what PAN-OS URL lists and Zeek's ``Intel::URL`` match; None
    when the URL has no host or holds a PAN-OS wildcard character."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    bare = host + parts.path + (f"?{parts.query}" if parts.query else "")
    if any(wildcard in bare for wildcard in PANOS_WILDCARDS):
        return None
    return bare


def collapse(networks: Iterable[IPNetwork], limits: ValueLimits) -> list[IPNetwork]:
    """The fewest blocks holding exactly these addresses, none wider than the limits (so a
    collapse never yields more lines than it was given); IPv4 first, each family sorted."""
    networks = list(networks)
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    blocks: list[tuple[IPNetwork, int]] = [
        *((block, limits.widest_ipv4) for block in ipaddress.collapse_addresses(v4)),
        *((block, limits.widest_ipv6) for block in ipaddress.collapse_addresses(v6)),
    ]
    out: list[IPNetwork] = []
    for block, widest in blocks:
        if block.prefixlen < widest:
            out.extend(block.subnets(new_prefix=widest))
        else:
            out.append(block)
    return out


def network_text(network: IPNetwork) -> str:
    """A host as an address, a block as CIDR (the form the hub stores values in)."""
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)
