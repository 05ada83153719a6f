"""The pre-parser cost limits of STIX patterns (cityshield.stix.pattern_limits)."""

from __future__ import annotations

import time

import pytest

from cityshield.stix.pattern_limits import (
    MAX_COMPARISONS,
    MAX_DEPTH,
    MAX_OBSERVATIONS,
    MAX_PATH_STEPS,
    MAX_PATTERN_LENGTH,
    pattern_limit_reason,
)


def ors(n: int, template: str = "a:b = {i}") -> str:
    return "[" + " OR ".join(template.format(i=i) for i in range(n)) + "]"


def test_the_5000_or_pattern_is_refused_in_well_under_a_millisecond() -> None:
    pattern = ors(5000, "ipv4-addr:value = '10.0.{i}.1'")
    started = time.perf_counter()
    reason = pattern_limit_reason(pattern)
    elapsed = time.perf_counter() - started
    assert reason == f"pattern is {len(pattern)} characters; the limit is {MAX_PATTERN_LENGTH}"
    assert elapsed < 0.001


def test_length_limit() -> None:
    body = "[file:name = '"
    fits = body + "a" * (MAX_PATTERN_LENGTH - len(body) - 2) + "']"
    assert len(fits) == MAX_PATTERN_LENGTH
    assert pattern_limit_reason(fits) is None
    assert "the limit is 16384" in str(pattern_limit_reason(fits + " "))


def test_comparison_limit() -> None:
    assert pattern_limit_reason(ors(MAX_COMPARISONS)) is None
    assert pattern_limit_reason(ors(MAX_COMPARISONS + 1)) == (
        f"pattern has {MAX_COMPARISONS + 1} comparisons; the limit is {MAX_COMPARISONS}"
    )
    assert pattern_limit_reason(ors(1000)) == "pattern has 1000 comparisons; the limit is 256"


def test_every_element_of_an_in_list_counts_as_a_comparison() -> None:
    in_list = "[a:b IN (" + ", ".join(str(i) for i in range(MAX_COMPARISONS)) + ")]"
    assert pattern_limit_reason(in_list) is None
    too_many = "[a:b IN (" + ", ".join(str(i) for i in range(MAX_COMPARISONS + 1)) + ")]"
    assert "comparisons" in str(pattern_limit_reason(too_many))


def test_exists_counts_as_a_comparison() -> None:
    pattern = "[" + " AND ".join(["EXISTS a:b"] * (MAX_COMPARISONS + 1)) + "]"
    assert "comparisons" in str(pattern_limit_reason(pattern))


def test_observation_limit() -> None:
    fits = " OR ".join(["[a:b = 1]"] * MAX_OBSERVATIONS)
    assert pattern_limit_reason(fits) is None
    assert pattern_limit_reason(fits + " FOLLOWEDBY [a:b = 2]") == (
        f"pattern has {MAX_OBSERVATIONS + 1} observation expressions; "
        f"the limit is {MAX_OBSERVATIONS}"
    )


def test_list_index_brackets_are_not_observations() -> None:
    pattern = "[file:extensions.'x'.sections[*].entropy > 7 AND a:b[0] = 1]"
    assert pattern_limit_reason(" OR ".join([pattern] * MAX_OBSERVATIONS)) is None


@pytest.mark.parametrize(
    "template",
    ["{o}[a:b = 1]{c}", "[{o}a:b = 1{c}]", "[a:b = 1] AND {o}[a:b = 2]{c}"],
)
def test_depth_limit(template: str) -> None:
    def nest(n: int) -> str:
        return template.format(o="(" * n, c=")" * n)

    assert pattern_limit_reason(nest(MAX_DEPTH - 1)) is None  # plus the brackets: 16
    assert pattern_limit_reason(nest(MAX_DEPTH)) == (
        f"pattern nests parentheses and brackets {MAX_DEPTH + 1} deep; the limit is {MAX_DEPTH}"
    )


def test_depth_counts_brackets_and_parentheses_together() -> None:
    pattern = "(" * 8 + "[" + "(" * 8 + "a:b[*] = 1" + ")" * 8 + "]" + ")" * 8
    assert "18 deep" in str(pattern_limit_reason(pattern))  # the list index is the 18th


def test_path_step_limit() -> None:
    def path(steps: int) -> str:
        return "[x-a:b" + ".c" * (steps - 1) + "[*]" + " = 1]"

    assert pattern_limit_reason(path(MAX_PATH_STEPS)) is None
    assert pattern_limit_reason(path(MAX_PATH_STEPS + 1)) == (
        f"pattern has an object path of {MAX_PATH_STEPS + 1} steps; the limit is {MAX_PATH_STEPS}"
    )
    # steps are per path, not summed over the pattern
    assert pattern_limit_reason(ors(40, "x-a:b.c.d.e.f = {i}")) is None


@pytest.mark.parametrize(
    "literal",
    [
        "' OR a:b = 1 OR a:b = 2 '",
        "'[[[[[[[[[[[[[[[[[[[[(((((((((((((((((('",
        "'a:b, c:d, e:f'",
        "'it\\'s [x] OR (y) : z'",
        "'\\\\'",
        "t'2024-01-01T00:00:00Z'",
        "h'ff'",
        "b'AAAA'",
    ],
)
def test_characters_inside_string_literals_do_not_count(literal: str) -> None:
    many = " OR ".join([f"[a:b = {literal}]"] * MAX_OBSERVATIONS)
    assert pattern_limit_reason(many) is None


def test_a_literal_full_of_or_and_brackets_counts_as_one_comparison() -> None:
    literal = "'" + " OR ".join(["x:y = 1"] * 1000) + "[[[[[[[[[[[[[[[[[[[['"
    assert pattern_limit_reason(f"[file:name = {literal}]") is None


def test_comments_are_skipped_like_the_lexer_skips_them() -> None:
    hidden = " OR ".join(["a:b = 1"] * 1000)
    assert pattern_limit_reason(f"[a:b = 1] /* {hidden} [[[[[[[[[[[[[[[[[[[[ it's */") is None
    assert pattern_limit_reason(f"[a:b = 1] // {hidden} it's\n AND [a:b = 2]") is None
    # ...but a quote inside a string, or a comment marker inside one, is just text
    assert pattern_limit_reason("[file:name = '/* not a comment'] OR [a:b = 1]") is None
    visible = "[a:b = '//'] OR " + ors(MAX_COMPARISONS)
    assert "comparisons" in str(pattern_limit_reason(visible))


def test_comparisons_after_a_line_comment_still_count() -> None:
    pattern = "[a:b = 1] // note\n AND " + ors(MAX_COMPARISONS)
    assert "comparisons" in str(pattern_limit_reason(pattern))


@pytest.mark.parametrize(
    "pattern, fragment",
    [
        ("[a:b = 'unterminated]", "quote"),
        ("[a:b = 'bad \\n escape']", "quote"),
        ("[a:b = 1] '", "quote"),
        ("[a:b = 1] /* never closed " + " OR a:b = 1" * 300, "comment"),
    ],
)
def test_text_the_lexer_would_split_differently_is_refused(pattern: str, fragment: str) -> None:
    """A stray quote or an unclosed comment: the lexer resumes reading code inside it, so
    nothing after it could be counted safely (and no parser rule accepts either)."""
    assert fragment in str(pattern_limit_reason(pattern))


def test_ordinary_patterns_are_within_every_limit() -> None:
    for pattern in [
        "[ipv4-addr:value = '198.51.100.7']",
        "[file:hashes.'SHA-256' = 'ab' OR file:hashes.MD5 = 'cd'] AND [x:y != 2.5]",
        "([a:b = 1] AND [c:d LIKE 'x%']) WITHIN 300 SECONDS",
        "[network-traffic:dst_ref.value ISSUBSET '10.0.0.0/8' AND NOT a:b IN (1, 2)]",
        "[a:b = 1] START t'2024-01-01T00:00:00Z' STOP t'2024-01-02T00:00:00Z'",
    ]:
        assert pattern_limit_reason(pattern) is None, pattern
