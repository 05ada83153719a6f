"""Which values an observable can have: the rules a pattern's literals must meet.

stix2-patterns checks the syntax of a pattern and the length of well-known hashes, nothing
else, so ``[ipv4-addr:value = '999.1.1.1']``, a 100,000-digit "address" or a domain with a
NUL byte used to be stored and exported to every member's firewall list. These rules are
applied at ingest (both validation paths) and again by the exports, for values stored
before they existed.

A value passes if it is valid as written or once read the way dedup reads it
(:mod:`cityshield.stix.normalize`: refanged, trimmed, lower-cased, IDNA A-labels, CIDR
host bits cleared), so a defanged ``hxxp://evil[.]example/`` stays acceptable; and the
normal form of an accepted value is accepted too (property-tested), because that is what
the network view and the exports carry. The rules:

* any value: at most :data:`MAX_VALUE_LENGTH` characters, no control characters (C0, DEL,
  C1) and no lone surrogates -- nothing a line-based export or a log could be split by;
* ``ipv4-addr`` / ``ipv6-addr``: an address or CIDR network per :mod:`ipaddress`
  (IPv4 leading zeros are refused, being octal to some tools and decimal to others; IPv6
  zone indexes are refused, having no meaning off the host);
* ``domain-name``: at most 253 characters, labels of 1..63 letters, digits, hyphens (not
  first or last) and underscores (DNS allows them and ``_dmarc``-style names occur), every
  ``xn--`` label a valid IDNA A-label, non-ASCII names IDNA-valid, and a last label that is
  not all digits (RFC 3696; ``999.1.1.1`` is not a domain either);
* ``url``: a scheme and a host (a domain as above, an IPv4 address or a bracketed IPv6
  one), a port within 0..65535 if any, and no whitespace (``%20`` instead);
* ``email-addr``: ``local@domain`` with a local part of 1..64 characters without
  whitespace and a domain as above;
* hashes (``hashes.X`` of any object type): exactly the hex length of a fixed-size
  algorithm (:func:`cityshield.stix.normalize.normalize_hash`); others are left to
  stix2-patterns (SSDEEP) or unchecked (custom algorithms).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from urllib.parse import urlsplit

import idna

from cityshield.stix.normalize import (
    hash_algorithm,
    normalize_domain,
    normalize_email,
    normalize_hash,
    normalize_ipv4,
    normalize_ipv6,
    normalize_url,
    to_a_labels,
)

__all__ = ["MAX_VALUE_LENGTH", "observable_reason", "value_reason"]

MAX_VALUE_LENGTH = 8_192  # characters, for any string value in a pattern

_FORBIDDEN_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_LABEL_RE = re.compile(_LABEL)
# A name whose labels are all plain LDH (+ underscore) of 1..63 characters: one regex
# decides the common case; the label loop below only runs to find what is wrong.
_PLAIN_NAME_RE = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")
_SPACE_RE = re.compile(r"\s")
_MAX_DETAIL = 100


def _clip(text: str) -> str:
    """A library's message, short enough for a status entry (ipaddress repeats the value)."""
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def value_reason(value: str) -> str | None:
    """Why no pattern may carry ``value`` as a string, or None."""
    if len(value) > MAX_VALUE_LENGTH:
        return f"is {len(value)} characters; the limit is {MAX_VALUE_LENGTH}"
    bad = _FORBIDDEN_RE.search(value)
    if bad is not None:
        return f"contains a control character (U+{ord(bad.group()):04X})"
    return None


def _ip_reason(kind: Callable[[str], object], text: str) -> str:
    """Why ``kind`` (an ipaddress constructor) refuses ``text``, or ''."""
    try:
        kind(text)
    except ValueError as exc:
        return _clip(str(exc))
    return ""


# An address is a network of one (/32, /128), so one constructor checks both forms.
def _v4_network(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text, strict=False)


def _v6_network(text: str) -> ipaddress.IPv6Network:
    return ipaddress.IPv6Network(text, strict=False)


def _ipv4(value: str) -> str:
    if not _ip_reason(ipaddress.IPv4Address, value):
        return ""  # the common spelling, without the normaliser's refanging passes
    return _ip_reason(_v4_network, normalize_ipv4(value))


def _ipv6(value: str) -> str:
    text = normalize_ipv6(value)
    if "%" in text:
        return "a zone index (%...) has no meaning outside its host"
    return _ip_reason(_v6_network, text)


def _domain_reason(name: str) -> str:
    """Why a normalised (lower-case, A-label) name is not a domain name, or ''."""
    if not name:
        return "it is empty"
    if len(name) > 253:
        return f"it is {len(name)} characters; a domain name has at most 253"
    if not name.isascii():  # the normaliser converts every name IDNA accepts
        try:
            to_a_labels(name)
        except ValueError as exc:
            return f"it is not IDNA-valid: {_clip(str(exc))}"
        return "it is not IDNA-valid"
    labels = name.split(".")
    if labels[-1].isdigit():
        return "its last label is all digits"
    if _PLAIN_NAME_RE.fullmatch(name) and "xn--" not in name:
        return ""
    for label in labels:
        if not 1 <= len(label) <= 63:
            return f"it has a label of {len(label)} characters (1..63 allowed)"
        if not _LABEL_RE.fullmatch(label):
            return f"label {_clip(label)!r} is not letters, digits, underscores and inner hyphens"
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except ValueError as exc:
                return f"label {label!r} is not a valid IDNA A-label: {_clip(str(exc))}"
    return ""


def _domain(value: str) -> str:
    if not _domain_reason(value):
        return ""  # already in normal form
    return _domain_reason(normalize_domain(value))


def _url(value: str) -> str:
    if not _url_reason(value):
        return ""  # valid as written, so valid normalised (a property test checks it)
    return _url_reason(normalize_url(value))


def _url_reason(text: str) -> str:
    if _SPACE_RE.search(text):
        return "it contains whitespace (percent-encode it)"
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises for a port that is not 0..65535
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535"...
        return _clip(str(exc))
    if not parts.scheme or not parts.netloc:
        return "it has no scheme://host"
    if not host:
        return "it has no host"
    if "[" in parts.netloc:  # an IPv6 literal (hostname drops the brackets)
        if "%" in host:
            return "its IPv6 host has a zone index"
        return _ip_reason(ipaddress.IPv6Address, host)
    if host[-1].isdigit() and not _ip_reason(ipaddress.IPv4Address, host):
        return ""  # (a domain's last label is never all digits, so only try those)
    reason = _domain_reason(host)
    return f"host {_clip(host)!r}: {reason}" if reason else ""


def _email(value: str) -> str:
    if not _email_reason(value):
        return ""  # already in normal form
    return _email_reason(normalize_email(value))


def _email_reason(text: str) -> str:
    local, at, domain = text.rpartition("@")
    if not at:
        return "it has no '@'"
    if not 1 <= len(local) <= 64:
        return f"its local part has {len(local)} characters (1..64 allowed)"
    if _SPACE_RE.search(local):
        return "its local part contains whitespace"
    reason = _domain_reason(domain)
    return f"domain {_clip(domain)!r}: {reason}" if reason else ""


_algorithm = lru_cache(maxsize=256)(hash_algorithm)  # a few names, on the fast path

_VALUE_CHECKS: dict[str, Callable[[str], str]] = {
    "ipv4-addr": _ipv4,
    "ipv6-addr": _ipv6,
    "domain-name": _domain,
    "url": _url,
    "email-addr": _email,
}


def _hash(algorithm: str, value: str) -> str:
    if value != value.strip():  # stix2-patterns compares hashes byte-exact
        return f"{algorithm} hash has leading or trailing whitespace"
    try:
        normalize_hash(algorithm, value)
    except ValueError as exc:
        return str(exc)
    return ""


def observable_reason(obj_type: str, path: Sequence[str], value: str) -> str | None:
    """Why ``value`` cannot be ``obj_type:path`` (unquoted path steps), or None.

    The reason completes a sentence about the value: "pattern value 'x' <reason>".
    """
    reason = value_reason(value)
    if reason is not None:
        return reason
    if len(path) == 1 and path[0] == "value":
        check = _VALUE_CHECKS.get(obj_type)
        detail = check(value) if check is not None else ""
        return f"is not a valid {obj_type}: {detail}" if detail else None
    if len(path) >= 2 and path[-2] == "hashes":
        detail = _hash(_algorithm(path[-1]), value)
        return f"is not a valid hash: {detail}" if detail else None
    return None
