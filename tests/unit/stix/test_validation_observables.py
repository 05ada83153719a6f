"""Observable values and pattern limits through the ingest validator, on both paths."""

from __future__ import annotations

import time

import pytest

from cityshield.stix.validation import validate_fast, validate_object, validate_reference
from tests.utils.observables import BAD, GOOD

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def indicator(pattern: str) -> dict:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-03-01T12:00:00.000Z",
        "modified": "2024-03-01T12:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-03-01T12:00:00Z",
    }


def quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.mark.parametrize("obj_type, value", GOOD)
def test_valid_values_pass_and_take_the_fast_path(obj_type: str, value: str) -> None:
    obj = indicator(f"[{obj_type}:value = {quoted(value)}]")
    assert validate_fast(obj) is True
    assert validate_reference(obj) is None


@pytest.mark.parametrize("obj_type, value, fragment", BAD)
def test_invalid_values_are_refused_on_both_paths(obj_type: str, value: str, fragment: str) -> None:
    single = indicator(f"[{obj_type}:value = {quoted(value)}]")
    compound = indicator(f"[x-a:b = 1] AND [{obj_type}:value != {quoted(value)}]")
    for obj in (single, compound):
        reason = validate_object(obj)
        assert validate_fast(obj) is None
        assert reason is not None and reason.startswith("pattern value "), reason
        assert f"is not a valid {obj_type}: " in reason and fragment in reason
        assert len(reason) <= 300


@pytest.mark.parametrize(
    "pattern, fragment",
    [
        ("[ipv4-addr:value = '999.1.1.1']", "Octet 999 (> 255)"),
        (f"[ipv4-addr:value = '{'1' * 100_000}']", "the limit is 16384"),
        (f"[ipv4-addr:value = '{'1' * 10_000}']", "is 10000 characters; the limit is 8192"),
        ("[domain-name:value = 'evil\x00.example']", "control character (U+0000)"),
        ("[url:value = 'http://evil.example/\n']", "control character (U+000A)"),
        ("[file:hashes.'SHA-256' = 'abc']", "not a valid SHA-256 hash"),
        ("[file:hashes.MD5 = '" + "a" * 31 + "']", "not a valid MD5 hash"),
        ("[file:hashes.'SHA-1' = '" + "a" * 41 + "']", "not a valid SHA-1 hash"),
        ("[file:hashes.'SHA-512' = '" + "g" * 128 + "']", "not a valid SHA-512 hash"),
        ("[file:hashes.'SHA3-256' = '" + "a" * 63 + "']", "not a valid SHA3-256 hash"),
        ("[file:hashes.'SHA3-512' = '" + "a" * 127 + "']", "not a valid SHA3-512 hash"),
        (f"[file:hashes.'SHA-256' = ' {SHA256}']", "not a valid SHA-256 hash"),
    ],
)
def test_the_reported_values_are_refused(pattern: str, fragment: str) -> None:
    obj = indicator(pattern)
    assert validate_fast(obj) is None
    reason = validate_object(obj)
    assert reason is not None and fragment in reason, reason


def test_the_5000_or_pattern_is_refused_before_any_parser_runs() -> None:
    pattern = (
        "["
        + " OR ".join(f"ipv4-addr:value = '10.0.{i // 250}.{i % 250}'" for i in range(5000))
        + "]"
    )
    started = time.perf_counter()
    reason = validate_object(indicator(pattern))
    elapsed = time.perf_counter() - started
    assert reason == f"pattern is {len(pattern)} characters; the limit is 16384"
    assert elapsed < 0.05, "stix2-patterns alone takes ~1.5 s and then recurses too deep"


@pytest.mark.parametrize(
    "pattern, reason",
    [
        (
            "[" + " OR ".join(["a:b = 1"] * 300) + "]",
            "pattern has 300 comparisons; the limit is 256",
        ),
        (
            " OR ".join(["[a:b = 1]"] * 65),
            "pattern has 65 observation expressions; the limit is 64",
        ),
        (
            "(" * 20 + "[a:b = 1]" + ")" * 20,
            "pattern nests parentheses and brackets 21 deep; the limit is 16",
        ),
        ("[x-a:b" + ".c" * 40 + " = 1]", "pattern has an object path of 40 steps; the limit is 32"),
    ],
)
def test_costly_patterns_are_refused_with_the_limit_in_the_reason(
    pattern: str, reason: str
) -> None:
    assert validate_object(indicator(pattern)) == reason


def test_or_and_brackets_inside_a_quoted_value_do_not_count() -> None:
    value = (
        " OR ".join(["ipv4-addr:value = '1.2.3.4'"] * 200).replace("'", "\\'")
        + " [[[[[[[[[[[[[[[[[["
    )
    obj = indicator(f"[file:name = '{value}']")
    assert validate_fast(obj) is True
    assert validate_reference(obj) is None


def test_a_syntax_error_in_a_long_pattern_stops_at_the_first_error() -> None:
    reason = validate_reference(indicator("[a:b = 1 " + "OR " * 5000 + "]"))
    assert reason is not None and reason.startswith("invalid STIX pattern: 1:12:")
