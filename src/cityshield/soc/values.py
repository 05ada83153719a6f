"""What an analyst pasted: the observable type a bare value most likely is, and the
canonical keys it is looked up by.

Analysts paste values without a type (``198.51.100.7``, ``hxxps://evil[.]example:443/``,
``TRAM-TICKET-UPDATE[.]EXAMPLE``, an upper-case SHA-256), so the type is read from the
value's shape; the key is then built by the dedup canonicaliser
(:func:`cityshield.dedup.canonical.canonical_value`), so a pasted value finds exactly the
IOC ingest stored for any spelling of it. A hash of a length two algorithms share
(SHA-256 and SHA3-256) yields one key per algorithm. No database here.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from cityshield.dedup.canonical import CanonicalIOC, canonical_value
from cityshield.stix.normalize import normalize_ipv4, normalize_ipv6, refang_all

LOOKUP_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "file")
"""The types a bare value is read as (``file``: its hashes)."""

_HASHES_BY_LENGTH: dict[int, tuple[str, ...]] = {
    32: ("MD5",),
    40: ("SHA-1",),
    56: ("SHA-224", "SHA3-224"),
    64: ("SHA-256", "SHA3-256"),
    96: ("SHA-384", "SHA3-384"),
    128: ("SHA-512", "SHA3-512"),
}
_HEX = re.compile(r"[0-9a-fA-F]+")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?:/[0-9]{1,2})?")
"""The shape of a dotted quad (checked cheaply first: most pasted values are addresses)."""
_DOMAIN = re.compile(r"[^\s/:@\\]+\.[^\s/:@\\.]+\.?")
MAX_VALUE_LENGTH = 4096
"""Longer than any URL a browser sends; anything longer is not a value worth a lookup."""


@dataclass(frozen=True)
class Reading:
    """How a pasted value is read: its type and candidate IOCs, or why it cannot be."""

    observable_type: str | None
    iocs: tuple[CanonicalIOC, ...] = ()
    problem: str | None = None


def guess_type(bare: str) -> str | None:
    """The observable type of a refanged, stripped value, from its shape; None if none."""
    if _HEX.fullmatch(bare) and len(bare) in _HASHES_BY_LENGTH:
        return "file"
    if "://" in bare:
        return "url"
    if "@" in bare:
        return "email-addr"
    if _IPV4.fullmatch(bare):
        return "ipv4-addr"
    if ":" in bare and _is_ip(normalize_ipv6(bare), ipaddress.IPv6Network):
        return "ipv6-addr"
    if _DOMAIN.fullmatch(bare):
        return "domain-name"
    if _is_ip(normalize_ipv4(bare), ipaddress.IPv4Network):  # "1 . 2 . 3 . 4" and the like
        return "ipv4-addr"
    return None


def _is_ip(text: str, network: type[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        network(text, strict=False)
    except ValueError:
        return False
    return True


def read_value(text: str, observable_type: str | None = None) -> Reading:
    """The canonical IOCs ``text`` may be, as ``observable_type`` or by its shape."""
    if len(text) > MAX_VALUE_LENGTH:
        return Reading(None, problem=f"longer than {MAX_VALUE_LENGTH} characters")
    bare = refang_all(text)
    if not bare:
        return Reading(None, problem="empty value")
    kind = observable_type or guess_type(bare)
    if kind is None:
        return Reading(None, problem="not a recognised observable value")
    if kind not in LOOKUP_TYPES:
        return Reading(kind, problem=f"type must be one of {', '.join(LOOKUP_TYPES)}")
    if kind == "file":
        algorithms = _HASHES_BY_LENGTH.get(len(bare), ()) if _HEX.fullmatch(bare) else ()
        if not algorithms:
            return Reading(kind, problem="not a hash of a known length (MD5 to SHA-512)")
        return Reading(kind, tuple(canonical_value(kind, ("hashes", a), bare) for a in algorithms))
    try:
        return Reading(kind, (canonical_value(kind, ("value",), text),))
    except ValueError as exc:  # only hashes raise today; kept total all the same
        return Reading(kind, problem=str(exc))
