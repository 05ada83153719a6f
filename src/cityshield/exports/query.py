"""What an export request asks for, checked once: formats, their types, filters, options.

Anything odd is a 400 with the reason, never silently ignored (as for TAXII filters): a city
that believes its firewall list holds only corroborated values must not get everything
because it wrote ``min_member=2``. So unknown and repeated parameters are refused too, and
an option that means nothing for the format (``collapse`` for a CSV) is an error, not a no-op.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cityshield.errors import InvalidFilter
from cityshield.exports.values import EXPORT_TYPES
from cityshield.policy.document import ExportDefaults
from cityshield.policy.document.model import TLP_ALIASES
from cityshield.stix.vocabulary import TLP_ORDER
from cityshield.timefmt import parse_timestamp

Format = Literal["edl", "csv", "stix", "zeek", "suricata"]
FORMATS: tuple[Format, ...] = ("edl", "csv", "stix", "zeek", "suricata")
UrlForm = Literal["bare", "full"]

IP_TYPES = ("ipv4-addr", "ipv6-addr")
DEFAULT_TYPES: dict[Format, tuple[str, ...]] = {
    "edl": IP_TYPES,
    "csv": EXPORT_TYPES,
    "stix": EXPORT_TYPES,
    "zeek": EXPORT_TYPES,
    "suricata": IP_TYPES,
}
"""Types a request without ``type`` gets: an EDL is one kind of list (IP addresses here),
Suricata's reputation holds addresses only, the others take every exportable type."""
EDL_KINDS = (frozenset(IP_TYPES), *(frozenset({t}) for t in EXPORT_TYPES if t not in IP_TYPES))
"""An external dynamic list holds one kind of value: a firewall reads an IP list, a domain
list or a URL list, and a line of another kind is an error on the device (or worse, read
as something else)."""
DEFAULT_URL_FORM: dict[Format, UrlForm] = {
    "edl": "bare",
    "zeek": "bare",
    "csv": "full",
    "stix": "full",
    "suricata": "full",
}
"""PAN-OS URL lists and Zeek's ``Intel::URL`` want URLs without the scheme (and a port
means nothing to either); tools reading CSV or STIX get the URL as reported."""
COLLAPSIBLE: frozenset[Format] = frozenset({"edl", "suricata"})
MAX_ENTRIES = 10_000_000
PARAMETERS = (
    "type",
    "min_members",
    "min_confidence",
    "tlp",
    "since",
    "max",
    "collapse",
    "url_form",
    "category",
)
_CATEGORY_FORMATS: frozenset[Format] = frozenset({"suricata"})
_LOOKS_LIKE_TIME = re.compile(r"[0-9]{4}-")
_DIGITS = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True)
class ExportRequest:
    """The parameters as the client gave them (None: not given)."""

    format: Format
    types: tuple[str, ...] | None = None
    min_members: int | None = None
    min_confidence: int | None = None
    tlp: str | None = None
    since: str | None = None
    max: int | None = None
    collapse: bool = False
    url_form: UrlForm | None = None
    category: int = 1


@dataclass(frozen=True)
class ExportQuery:
    """A checked request with the member's defaults applied: what the export computes."""

    format: Format
    types: tuple[str, ...]
    min_members: int
    min_confidence: int
    tlp: str
    max: int | None
    collapse: bool
    url_form: UrlForm
    category: int
    since: str | None

    def fingerprint_parts(self) -> tuple[object, ...]:
        """Everything that selects or shapes entries except ``since`` (a delta's start)."""
        return (
            self.format,
            self.types,
            self.min_members,
            self.min_confidence,
            self.tlp,
            self.max,
            self.collapse,
            self.url_form,
            self.category,
        )


def parse_request(fmt: Format, pairs: Iterable[tuple[str, str]]) -> ExportRequest:
    """The request a query string stands for; InvalidFilter for an unknown parameter, one
    given twice, or a value out of its range."""
    given: dict[str, str] = {}
    for name, value in pairs:
        if name not in PARAMETERS:
            raise InvalidFilter(
                f"unknown parameter {name[:40]!r}; export parameters are {', '.join(PARAMETERS)}."
            )
        if name in given:
            raise InvalidFilter(f"parameter {name!r} is given twice; give it once.")
        given[name] = value
    url_form = given.get("url_form")
    if url_form not in (None, "bare", "full"):
        raise InvalidFilter(f"url_form must be bare or full; got {url_form[:40]!r}.")
    if given.get("since") == "":
        raise InvalidFilter("since is empty; give a token or a timestamp, or leave it out.")
    return ExportRequest(
        format=fmt,
        types=parse_types(given["type"]) if "type" in given else None,
        min_members=_number(given, "min_members", 1, 1000),
        min_confidence=_number(given, "min_confidence", 0, 100),
        tlp=parse_tlp(given["tlp"]) if "tlp" in given else None,
        since=given.get("since"),
        max=_number(given, "max", 1, MAX_ENTRIES),
        collapse=_switch(given.get("collapse")),
        url_form="bare" if url_form == "bare" else "full" if url_form == "full" else None,
        category=_number(given, "category", 1, 60) or 1,
    )


def _number(given: dict[str, str], name: str, low: int, high: int) -> int | None:
    """ASCII digits within [low, high]: ``int`` also reads "٣" and " 3 "."""
    text = given.get(name)
    if text is None:
        return None
    if not _DIGITS.fullmatch(text) or not low <= int(text) <= high:
        raise InvalidFilter(
            f"{name} must be a whole number from {low} to {high}; got {text[:40]!r}."
        )
    return int(text)


def _switch(text: str | None) -> bool:
    if text is None or text in ("false", "0"):
        return False
    if text in ("true", "1"):
        return True
    raise InvalidFilter(f"collapse must be true or false; got {text[:40]!r}.")


def parse_types(text: str) -> tuple[str, ...]:
    """``type=ipv4-addr,ipv6-addr``: known export types, each once, in a stable order."""
    names = [part.strip() for part in text.split(",")]
    unknown = [name for name in names if name not in EXPORT_TYPES]
    if not names or unknown:
        raise InvalidFilter(
            f"type must be one or more of {', '.join(EXPORT_TYPES)} (comma-separated); "
            f"got {text[:60]!r}."
        )
    return tuple(t for t in EXPORT_TYPES if t in names)


def parse_tlp(text: str) -> str:
    level = TLP_ALIASES.get(text.strip().lower(), text.strip().lower())
    if level not in TLP_ORDER:
        raise InvalidFilter(
            f"tlp must be one of {', '.join(TLP_ORDER)} (white is clear); got {text[:40]!r}."
        )
    return level


def resolve(request: ExportRequest, defaults: ExportDefaults) -> ExportQuery:
    """The query a request stands for: the member's policy thresholds fill what the request
    leaves out (an explicit value wins: the city decides what its own devices block)."""
    fmt = request.format
    types = request.types or DEFAULT_TYPES[fmt]
    if fmt == "suricata" and not set(types) <= set(IP_TYPES):
        raise InvalidFilter(
            "suricata reputation files hold IP addresses: type must be ipv4-addr and/or ipv6-addr."
        )
    if fmt == "edl" and not any(set(types) <= kind for kind in EDL_KINDS):
        raise InvalidFilter(
            "an EDL holds one kind of value: ask for ipv4-addr and/or ipv6-addr, or one of "
            "domain-name, url, email-addr, file (one list per kind)."
        )
    if request.collapse and (fmt not in COLLAPSIBLE or not set(types) <= set(IP_TYPES)):
        raise InvalidFilter(
            f"collapse merges IP addresses into CIDR blocks: it applies to "
            f"{' and '.join(sorted(COLLAPSIBLE))} lists of ipv4-addr/ipv6-addr only."
        )
    if request.category != 1 and fmt not in _CATEGORY_FORMATS:
        raise InvalidFilter("category applies to suricata only.")
    if request.since is not None and request.max is not None:
        raise InvalidFilter(
            "max caps a whole list; a delta (since) cannot be capped. Ask for one or the other."
        )
    return ExportQuery(
        format=fmt,
        types=types,
        min_members=defaults.min_members if request.min_members is None else request.min_members,
        min_confidence=defaults.min_confidence
        if request.min_confidence is None
        else request.min_confidence,
        tlp=request.tlp or TLP_ORDER[-1],
        max=request.max,
        collapse=request.collapse,
        url_form=request.url_form or DEFAULT_URL_FORM[fmt],
        category=request.category,
        since=request.since,
    )


def since_timestamp(text: str) -> int | None:
    """``since`` as an RFC 3339 timestamp (epoch microseconds), or None when it is a token."""
    if not _LOOKS_LIKE_TIME.match(text):
        return None
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise InvalidFilter(
            f"since must be a token from X-CityShield-Next-Since or an RFC 3339 timestamp; "
            f"got {text[:60]!r}."
        ) from exc
