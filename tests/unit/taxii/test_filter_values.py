"""Query values at the edges: only ASCII digits of bounded length, cursor positions inside
BIGINT, repeated parameters OR-ed (match) or refused (single-valued)."""

from __future__ import annotations

import base64

import pytest

from cityshield.errors import InvalidFilter, PayloadTooLarge
from cityshield.store.cursor import decode_cursor, encode_cursor
from cityshield.taxii.body import _check_declared
from cityshield.taxii.filters import parse_filters

ALL = frozenset({"id", "type", "version", "spec_version"})


def parse(*pairs: tuple[str, str]):  # type: ignore[no-untyped-def]
    return parse_filters(list(pairs), allowed=ALL, default_limit=100, max_limit=1000)


@pytest.mark.parametrize(
    "value", ["²", "٣", "\uff11", "9" * 5000, "9" * 20, " 5", "+5", "5_0", "0"]
)
def test_limit_takes_only_ascii_digits(value: str) -> None:
    with pytest.raises(InvalidFilter) as caught:
        parse(("limit", value))
    assert len(caught.value.description) < 200


def test_limit_of_19_digits_is_capped() -> None:
    assert parse(("limit", "9" * 19)).limit == 1000


def _token(position: str, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{position}:{fingerprint}".encode()).decode().rstrip("=")


@pytest.mark.parametrize("position", [str(2**63), "9" * 30, "-1", "", " 1", "1_0", "٣"])
def test_cursor_positions_outside_bigint_are_refused(position: str) -> None:
    with pytest.raises(InvalidFilter):
        decode_cursor(_token(position, "fp"), "fp")


def test_cursor_at_the_bigint_edge() -> None:
    assert decode_cursor(encode_cursor(2**63 - 1, "fp"), "fp") == 2**63 - 1
    assert decode_cursor(encode_cursor(0, "fp"), "fp") == 0


def test_repeated_match_is_or_and_deduplicated() -> None:
    filters = parse(("match[id]", "a,b"), ("match[id]", "c"), ("match[id]", "a"))
    assert filters.ids == ("a", "b", "c")
    assert filters.fingerprint == parse(("match[id]", "a,b,c")).fingerprint
    versions = parse(("match[version]", "first"), ("match[version]", "2026-11-20T09:15:00Z"))
    assert versions.versions == ("first", "2026-11-20T09:15:00Z")
    assert len(versions.version_times_us) == 1


@pytest.mark.parametrize("name", ["added_after", "limit", "next"])
def test_repeated_single_valued_parameter(name: str) -> None:
    value = {"added_after": "2026-01-01T00:00:00Z", "limit": "5", "next": "abc"}[name]
    parse((name, value), (name, value))  # the same value twice is harmless
    with pytest.raises(InvalidFilter) as caught:
        parse((name, value), (name, value + "0" if name != "added_after" else value[:-1] + "1Z"))
    assert name in caught.value.description


def test_query_params_keep_their_repeats() -> None:
    from starlette.datastructures import QueryParams

    filters = parse_filters(
        QueryParams("match[type]=a&match[type]=b"), allowed=ALL, default_limit=1, max_limit=1
    )
    assert filters.types == ("a", "b")


@pytest.mark.parametrize("declared", ["1025", "9" * 19, "9" * 40])
def test_declared_content_length_over_the_limit(declared: str) -> None:
    with pytest.raises(PayloadTooLarge):
        _check_declared(declared, 1024)
