"""TAXII 2.1 query filters: parsed and checked once (``store.filters`` applies them as SQL
predicates).

Commas inside one ``match[...]`` are OR, and so are repeats of it (``match[id]=A&match[id]=B``);
different fields are AND (TAXII 2.1 section 3.6).
An odd value is a 400 with the reason, never a 500 and never silently ignored: a client
that believes it filtered must not receive unfiltered data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cityshield.errors import InvalidFilter
from cityshield.store.filters import Filters
from cityshield.timefmt import parse_timestamp

SUPPORTED_SPEC_VERSIONS = ("2.0", "2.1")
_MATCH_FIELDS = {"id", "type", "version", "spec_version"}
_VERSION_KEYWORDS = {"first", "last", "all"}
_SINGLE = ("added_after", "limit", "next")
_LIMIT = re.compile(r"[0-9]{1,19}")

QueryPairs = Iterable[tuple[str, str]] | Mapping[str, str]
"""Query parameters: pairs in order (repeats kept), or a plain mapping."""


def _shown(value: str) -> str:
    """A client's value, quoted and cut short, for an error description."""
    return repr(value if len(value) <= 40 else value[:40] + "...")


def _split(value: str, name: str) -> tuple[str, ...]:
    items = tuple(part.strip() for part in value.split(","))
    if not all(items):
        raise InvalidFilter(f"{name} has an empty value: {_shown(value)}.")
    return items


def _limit(value: str | None, default_limit: int, max_limit: int) -> int:
    """ASCII digits only: ``str.isdigit`` also takes "²" and "٣", which ``int`` refuses or
    reads as digits, and more than 19 digits is past any page size (and ``int`` refuses
    more than 4,300)."""
    if value is None:
        return min(default_limit, max_limit)
    if not _LIMIT.fullmatch(value) or int(value) < 1:
        raise InvalidFilter(
            f"limit must be a positive integer (ASCII digits, at most 19), got {_shown(value)}."
        )
    return min(int(value), max_limit)


def _timestamp(value: str, name: str) -> int:
    try:
        if not value.isascii():
            raise ValueError("only ASCII characters")
        return parse_timestamp(value)
    except ValueError as exc:
        raise InvalidFilter(f"{name} must be an RFC 3339 timestamp, got {_shown(value)}.") from exc


def _pairs(params: QueryPairs) -> Iterable[tuple[str, str]]:
    """Every (name, value), repeats included: a mapping's ``items()`` would keep one value
    per name, and ``match[id]=A&match[id]=B`` would silently mean only B."""
    multi_items = getattr(params, "multi_items", None)
    if multi_items is not None:
        pairs: Iterable[tuple[str, str]] = multi_items()
        return pairs
    if isinstance(params, Mapping):
        return params.items()
    return params


def parse_filters(
    params: QueryPairs,
    *,
    allowed: frozenset[str],
    default_limit: int,
    max_limit: int,
) -> Filters:
    """Parse query parameters. ``allowed`` names the match fields this endpoint supports.

    A repeated ``match[field]`` adds its values (OR, as commas do); a repeated
    ``added_after``, ``limit`` or ``next`` with another value is a 400: which one would
    count is a guess, and a wrong guess returns the wrong page.
    """
    single: dict[str, str] = {}
    matches: dict[str, list[str]] = {}
    for key, value in _pairs(params):
        if key in _SINGLE:
            if single.setdefault(key, value) != value:
                raise InvalidFilter(
                    f"{key} is given twice with different values ({_shown(single[key])}, "
                    f"{_shown(value)}); give it once."
                )
        elif key.startswith("match[") and key.endswith("]"):
            field_name = key[6:-1]
            if field_name not in _MATCH_FIELDS or field_name not in allowed:
                raise InvalidFilter(f"match[{field_name}] is not supported on this endpoint.")
            matches.setdefault(field_name, []).extend(_split(value, key))
        elif key.startswith("match"):
            raise InvalidFilter(f"Malformed filter parameter {key!r}; use match[field].")
    kwargs: dict[str, Any] = {"limit": _limit(single.get("limit"), default_limit, max_limit)}
    if "added_after" in single:
        kwargs["added_after_us"] = _timestamp(single["added_after"], "added_after")
    if "next" in single:
        kwargs["next_token"] = single["next"]
    for field_name, items in matches.items():
        _parse_match(field_name, tuple(dict.fromkeys(items)), kwargs)
    return Filters(**kwargs)


def _parse_match(field_name: str, items: tuple[str, ...], out: dict[str, Any]) -> None:
    if field_name == "id":
        out["ids"] = items
    elif field_name == "type":
        out["types"] = items
    elif field_name == "spec_version":
        bad = [v for v in items if v not in SUPPORTED_SPEC_VERSIONS]
        if bad:
            raise InvalidFilter(
                f"match[spec_version] values must be one of {', '.join(SUPPORTED_SPEC_VERSIONS)}; "
                f"got {', '.join(map(_shown, bad))}."
            )
        out["spec_versions"] = items
    else:
        times: list[int] = []
        for item in items:
            if item in _VERSION_KEYWORDS:
                continue
            try:
                times.append(_timestamp(item, "match[version]"))
            except InvalidFilter as exc:
                raise InvalidFilter(
                    f"match[version] values are first, last, all or timestamps; got {_shown(item)}."
                ) from exc
        out["versions"] = items
        out["version_times_us"] = tuple(times)
