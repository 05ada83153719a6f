"""A feed's values as the network knows them: an observable type named in a definition
(``ipv4-addr``, ``url``, ``file:hashes.SHA256``...) and a value read from a line become
the canonical IOC key dedup uses, and back into the pattern the feed's indicator carries.

The key is computed exactly as :mod:`cityshield.dedup.canonical` computes it for a city's
``[type:path = 'value']`` (same normal forms, same spelling), so a feed's value and a
city's report of it corroborate one network indicator; the value must pass the same rules
a city's pattern literal must (:func:`cityshield.stix.observables.observable_reason`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cityshield.stix.literals import quote
from cityshield.stix.normalize import hash_algorithm, normalize_value
from cityshield.stix.observables import observable_reason

VALUE_TYPES = ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr")
HASH_PREFIX = "file:hashes."
HASH_ALGORITHMS = ("MD5", "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
"""Fixed-size hashes, whose length the hub checks (others could hide any string)."""

_IPV4_PORT = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}")
_IPV6_PORT = re.compile(r"\[([0-9A-Fa-f:.]+)\]:\d{1,5}")


@dataclass(frozen=True)
class ObservableType:
    """What every value of a column (or line) is: a STIX type and property path."""

    stix_type: str
    path: str
    """As a pattern writes it: ``value`` or ``hashes.'SHA-256'``."""
    steps: tuple[str, ...]
    """Unquoted: ``("value",)`` or ``("hashes", "SHA-256")``."""


def observable_type(spec: str) -> ObservableType:
    """The observable type a definition names; ValueError listing the choices."""
    if spec in VALUE_TYPES:
        return ObservableType(spec, "value", ("value",))
    if spec.startswith(HASH_PREFIX):
        algorithm = hash_algorithm(spec[len(HASH_PREFIX) :].strip("'"))
        if algorithm in HASH_ALGORITHMS:
            return ObservableType("file", f"hashes.{quote(algorithm)}", ("hashes", algorithm))
    choices = ", ".join([*VALUE_TYPES, *(HASH_PREFIX + a for a in HASH_ALGORITHMS)])
    raise ValueError(f"unknown observable type {spec!r}; one of {choices}")


def value_key(kind: ObservableType, raw: str) -> str:
    """The canonical IOC key of ``raw`` as a ``kind``; ValueError saying why it is none.

    An address written with a port (``198.51.100.7:443``, ``[2001:db8::1]:443``, as
    ThreatFox's ``ip:port`` IOCs are) stands for the address: block lists block hosts.
    """
    text = raw.strip()
    port = {"ipv4-addr": _IPV4_PORT, "ipv6-addr": _IPV6_PORT}.get(kind.stix_type)
    match = port.fullmatch(text) if port is not None else None
    if match is not None:
        text = match.group(1)
    if not text:
        raise ValueError("empty value")
    try:
        value = normalize_value(kind.stix_type, kind.steps, text)
    except ValueError as exc:
        raise ValueError(f"{_shown(raw)} is not a valid {kind.stix_type}: {exc}") from None
    reason = observable_reason(kind.stix_type, kind.steps, value)
    if reason is not None:
        raise ValueError(f"{_shown(raw)} {reason}")
    return f"{kind.stix_type}:{kind.path}={value}"


def key_pattern(key: str) -> tuple[str, str]:
    """The STIX pattern and the value of a key made by :func:`value_key` (paths hold no
    ``=`` and types no ``:``, so the key splits unambiguously)."""
    head, _, value = key.partition("=")
    stix_type, _, path = head.partition(":")
    return f"[{stix_type}:{path} = {quote(value)}]", value


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= 80 else raw[:77] + "...")
