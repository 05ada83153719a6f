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

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cityshield.stix.addresses import Span, merged, span_of
from cityshield.stix.literals import unescape
from cityshield.stix.observables import observable_reason

EXPORT_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file")
IP_VERSIONS = {"ipv4-addr": 4, "ipv6-addr": 6}
PANOS_WILDCARDS = ("*", "^")


@dataclass(frozen=True)
class ValueLimits:
    """The widest address ranges an export may hold (``CITYSHIELD_EXPORT_WIDEST_*``)."""

    widest_ipv4: int = 16
    widest_ipv6: int = 32

    def widest(self, version: int) -> int:
        return self.widest_ipv4 if version == 4 else self.widest_ipv6

    def too_wide(self, span: Span) -> bool:
        return span.prefixlen < self.widest(span.version)


def exportable(observable_type: str, key: str, value: str | None) -> bool:
    """A single-value IOC whose value belongs in its type's list (see module docstring).

    Its path is read back from the canonical key, ``type:path=value``. An address in normal
    form passes the value rules by construction (:func:`span_of` reads only the canonical
    text), so only other values go through :func:`observable_reason` (tens of us each).
    """
    if ip_span(observable_type, key, value) is not None:
        return True
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


def ip_span(observable_type: str, key: str, value: str | None) -> Span | None:
    """The addresses of an IP IOC whose value is its normal form (the common case, read
    fast and valid by construction), else None."""
    if value and observable_type in IP_VERSIONS and key == f"{observable_type}:value={value}":
        span = span_of(value)
        if span is not None and span.version == IP_VERSIONS[observable_type]:
            return span
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


def collapse(spans: Iterable[Span], limits: ValueLimits) -> list[Span]:
    """The fewest blocks holding exactly these addresses, none wider than the limits (a
    wider one is split at the limit, so a collapse never yields more lines than it was
    given); IPv4 first, each family in address order."""
    out: list[Span] = []
    for block in merged(spans):
        widest = limits.widest(block.version)
        if block.prefixlen >= widest:
            out.append(block)
            continue
        step = 1 << ((32 if block.version == 4 else 128) - widest)
        out.extend(
            Span(block.version, first, first + step - 1, widest)
            for first in range(block.first, block.last + 1, step)
        )
    return out
