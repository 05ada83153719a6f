"""Filter parsing: the rules that turn query strings into SQL predicates."""

from __future__ import annotations

import pytest

from cityshield.errors import InvalidFilter
from cityshield.store.cursor import decode_cursor, encode_cursor
from cityshield.taxii.filters import parse_filters
from cityshield.taxii.media import require_acceptable, require_taxii_content
from cityshield.timefmt import format_date_added, format_timestamp, parse_timestamp

ALL = frozenset({"id", "type", "version", "spec_version"})


def parse(**params: str):  # type: ignore[no-untyped-def]
    return parse_filters(params, allowed=ALL, default_limit=100, max_limit=1000)


def test_defaults() -> None:
    filters = parse()
    assert filters.limit == 100 and filters.versions == ("last",) and filters.ids == ()


def test_limit_capped_and_validated() -> None:
    assert parse(limit="5000").limit == 1000
    for bad in ["0", "-1", "1.5", "ten", ""]:
        with pytest.raises(InvalidFilter):
            parse(limit=bad)


def test_commas_are_or_and_values_trimmed() -> None:
    filters = parse(**{"match[type]": "indicator, identity", "match[version]": "first,all"})
    assert filters.types == ("indicator", "identity")
    assert filters.versions == ("first", "all")


def test_version_timestamps_parsed() -> None:
    filters = parse(**{"match[version]": "2026-11-20T09:15:00Z,last"})
    assert filters.version_times_us == (parse_timestamp("2026-11-20T09:15:00.000Z"),)


def test_fingerprint_ignores_limit_and_cursor_but_not_filters() -> None:
    base = parse(limit="5").fingerprint
    assert parse(limit="7").fingerprint == base
    assert parse(**{"match[type]": "indicator"}).fingerprint != base
    assert parse(added_after="2026-01-01T00:00:00Z").fingerprint != base


def test_cursor_round_trip_and_binding() -> None:
    token = encode_cursor(12345, "abc")
    assert decode_cursor(token, "abc") == 12345
    with pytest.raises(InvalidFilter):
        decode_cursor(token, "other")
    with pytest.raises(InvalidFilter):
        decode_cursor("@@@", "abc")


def test_disallowed_match_field() -> None:
    with pytest.raises(InvalidFilter):
        parse_filters(
            {"match[type]": "x"}, allowed=frozenset({"version"}), default_limit=1, max_limit=1
        )


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T09:15:00Z",
        "2026-11-20T09:15:00.1Z",
        "2026-11-20T09:15:00.123456Z",
        "1999-12-31T23:59:59.999999Z",
    ],
)
def test_timestamp_round_trip(text: str) -> None:
    micros = parse_timestamp(text)
    assert parse_timestamp(format_timestamp(micros)) == micros
    assert parse_timestamp(format_date_added(micros)) == micros


@pytest.mark.parametrize(
    "text", ["2026-13-01T00:00:00Z", "2026-11-20", "2026-11-20T09:15:00", "yesterday", ""]
)
def test_bad_timestamps(text: str) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_offsets_normalised_to_utc() -> None:
    assert parse_timestamp("2026-11-20T10:15:00+01:00") == parse_timestamp("2026-11-20T09:15:00Z")


def test_media_negotiation() -> None:
    require_acceptable(None)
    require_acceptable("application/taxii+json;version=2.1")
    require_acceptable("text/html, */*;q=0.8")
    for bad in [
        "application/json",
        "application/taxii+json;version=2.0",
        "application/taxii+json;q=0",
    ]:
        with pytest.raises(Exception, match="only produces"):
            require_acceptable(bad)
    require_taxii_content("application/taxii+json; version=2.1")
    with pytest.raises(Exception, match="Content-Type"):
        require_taxii_content("application/stix+json;version=2.1")
