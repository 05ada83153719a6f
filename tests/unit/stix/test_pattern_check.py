"""Pattern checks at ingest (cityshield.stix.pattern_check): limits, syntax, values.

The reference validator no longer lets stix2 parse the pattern (stix2 is shown a pattern
type it does not parse), so the property tests here hold the fail-fast parse and the
stix2-patterns pieces it reuses to exactly the verdict of stix2-patterns' ``run_validator``.
"""

from __future__ import annotations

import time

import pytest
import stix2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stix2patterns.validator import run_validator

from cityshield.stix.pattern_check import UNPARSED_PATTERN_TYPE, _grammar_reason, pattern_reason
from cityshield.stix.pattern_limits import pattern_limit_reason

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    "pattern, reason",
    [
        (
            "[ipv4-addr:value = '999.1.1.1']",
            "pattern value '999.1.1.1' is not a valid ipv4-addr: "
            "Octet 999 (> 255) not permitted in '999.1.1.1'",
        ),
        (
            "[domain-name:value = 'evil\x00.example']",
            "pattern value 'evil\\x00.example' contains a control character (U+0000)",
        ),
        (
            "[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '1.2.3.400']",
            "pattern value '1.2.3.400' is not a valid ipv4-addr: "
            "Octet 400 (> 255) not permitted in '1.2.3.400'",
        ),
        (
            "[ipv4-addr:value NOT IN ('1.2.3.4', '1.2.3.400')]",
            "pattern value '1.2.3.400' is not a valid ipv4-addr: "
            "Octet 400 (> 255) not permitted in '1.2.3.400'",
        ),
        (
            "[network-traffic:dst_port = 443] AND [url:value != 'evil.example/x']",
            "pattern value 'evil.example/x' is not a valid url: it has no scheme://host",
        ),
        (
            "[ipv4-addr:value ISSUBSET '10.0.0.0/33']",
            "pattern value '10.0.0.0/33' is not a valid ipv4-addr: '33' is not a valid netmask",
        ),
        (
            "[file:'hashes'.'SHA3-512' = 'abc']",
            "invalid STIX pattern: 'abc' is not a valid SHA3-512 hash",
        ),
        (
            "[file:hashes.'SHA-256' = 'a\\\\b']",
            "invalid STIX pattern: 'a\\\\b' is not a valid SHA-256 hash",
        ),
        ("[file:name LIKE 'a\tb']", "pattern value 'a\\tb' contains a control character (U+0009)"),
        ("ipv4-addr:value = '1.2.3.4'", "invalid STIX pattern: input is missing square brackets"),
        (
            "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS",
            "invalid STIX pattern: Duplicate qualifier type encountered: WITHIN",
        ),
    ],
)
def test_reasons(pattern: str, reason: str) -> None:
    assert pattern_reason(pattern) == reason


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '198.51.100.7']",
        "[domain-name:value LIKE '%.evil.example']",  # a wildcard, not a domain
        "[url:value MATCHES '^https?://[^/]+/x\\\\.php$']",  # a regex, not a URL
        "[file:name = '999.1.1.1']",  # a file may be called anything printable
        "[ipv4-addr:value > '1']",  # ordering compares text
        "[domain-name:resolves_to_refs[*].value = '198.51.100.7']",
        "[ipv4-addr:value IN ('198.51.100.7', '198.51.100.0/24')]",
        f"[file:hashes.'SHA-256' = '{SHA256}' AND file:size = 5]",
        "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGH']",
        "[a:b = t'2024-01-01T00:00:00Z' AND a:c IN (h'ff', b'AAAA', 1, true)]",
        "[email-addr:value = 'phish[@]evil[.]example'] /* defanged, it's fine */",
    ],
)
def test_valid_patterns_pass(pattern: str) -> None:
    assert pattern_reason(pattern) is None
    assert run_validator(pattern, "2.1") == []


def test_a_2_0_pattern_version_uses_the_2_0_grammar() -> None:
    assert pattern_reason("[ipv4-addr:value = '198.51.100.7']", "2.0") is None
    assert "Octet 999" in str(pattern_reason("[ipv4-addr:value = '999.1.1.1']", "2.0"))
    # EXISTS is 2.1 only; stix2-patterns checks duplicate qualifiers in 2.1 only
    assert pattern_reason("[EXISTS a:b]") is None
    assert pattern_reason("[EXISTS a:b]", "2.0") is not None
    assert pattern_reason("[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", "2.0") is None


def test_stix2_does_not_parse_a_pattern_of_the_type_it_is_shown() -> None:
    """The validator relies on this to parse each pattern once."""
    stix2.parse(
        {
            "type": "indicator",
            "spec_version": "2.1",
            "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2024-01-01T00:00:00Z",
            "modified": "2024-01-01T00:00:00Z",
            "pattern": "[not a pattern",
            "pattern_type": UNPARSED_PATTERN_TYPE,
            "valid_from": "2024-01-01T00:00:00Z",
        },
        allow_custom=False,
        version="2.1",
    )


def test_garbage_within_the_limits_fails_at_the_first_error() -> None:
    """stix2-patterns' own validator recovers and keeps parsing (~1.5 s for this one)."""
    garbage = "[a:b = 1 " + "OR " * 5000 + "]"
    assert pattern_limit_reason(garbage) is None
    pattern_reason("[a:b = 1]")  # warm the parser's caches
    started = time.perf_counter()
    reason = pattern_reason(garbage)
    assert time.perf_counter() - started < 1.0
    assert str(reason).startswith("invalid STIX pattern: 1:12:")


# ------------------------------------------------------------------ properties

PATHS = [
    "ipv4-addr:value",
    "domain-name:value",
    "file:hashes.'SHA-256'",
    "file:hashes.MD5",
    "file:name",
    "x-a:b.c[*].d",
    "file:'hashes'.'sha-1'",
]
LITERALS = [
    "'198.51.100.7'",
    "'evil.example'",
    f"'{SHA256}'",
    "'d41d8cd98f00b204e9800998ecf8427e'",
    "'x'",
    "'it\\'s'",
    "1",
    "-2",
    "2.5",
    "true",
    "h'ff'",
    "b'AAAA'",
    "t'2024-01-01T00:00:00Z'",
    "('a', 'b')",
    "(1, 2)",
]
OPERATORS = ["=", "!=", "<", ">=", "LIKE", "MATCHES", "IN", "ISSUBSET", "NOT =", "NOT IN"]
QUALIFIERS = [
    "WITHIN 5 SECONDS",
    "REPEATS 2 TIMES",
    "START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00Z'",
]


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(PATHS))
    if draw(st.integers(0, 9)) == 0:
        return f"{'NOT ' if draw(st.booleans()) else ''}EXISTS {path}"
    return f"{path} {draw(st.sampled_from(OPERATORS))} {draw(st.sampled_from(LITERALS))}"


comparison_expressions = st.recursive(
    comparisons(),
    lambda inner: (
        st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(" ".join)
        | inner.map("({})".format)
    ),
    max_leaves=5,
)


@st.composite
def observations(draw: st.DrawFn) -> str:
    text = f"[{draw(comparison_expressions)}]"
    for qualifier in draw(st.lists(st.sampled_from(QUALIFIERS), max_size=2)):
        text = f"{text} {qualifier}" if draw(st.booleans()) else f"({text}) {qualifier}"
    return text


patterns = st.recursive(
    observations(),
    lambda inner: (
        st.tuples(inner, st.sampled_from(["AND", "OR", "FOLLOWEDBY"]), inner).map(" ".join)
        | inner.map("({})".format)
    ),
    max_leaves=4,
)
NOISE = ["[", "]", "(", ")", "'", ",", ":", ".", " ", "OR", "NOT", "/*", "*/", "//", "\n"]


@st.composite
def mutated_patterns(draw: st.DrawFn) -> str:
    """Mostly-valid patterns with a few tokens inserted or deleted."""
    text = draw(patterns)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:i] + draw(st.sampled_from(NOISE)) + text[i:]
        else:
            text = text[:i] + text[i + 1 :]
    return text


@SETTINGS
@given(st.one_of(patterns, mutated_patterns()), st.sampled_from(["2.1", "2.0"]))
def test_the_fail_fast_parse_agrees_with_run_validator(pattern: str, version: str) -> None:
    """Same verdict as stix2-patterns on every pattern the limits let through."""
    if pattern_limit_reason(pattern) is not None:
        return
    ours, _ = _grammar_reason(pattern, version)
    theirs = run_validator(pattern, version)
    assert (ours is None) == (theirs == []), (ours, theirs)


@SETTINGS
@given(st.one_of(patterns, mutated_patterns()))
def test_an_accepted_pattern_is_accepted_by_run_validator(pattern: str) -> None:
    if pattern_reason(pattern) is None:
        assert run_validator(pattern, "2.1") == []
