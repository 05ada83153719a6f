"""Limits on the size and shape of a STIX pattern, checked before any parser runs.

stix2-patterns (ANTLR, in Python) costs about half a millisecond per comparison, and its
parse trees are as deep as a chain of ``OR``s or an object path is long: an indicator
ORing 5,000 comparisons burnt ~2 s of CPU and then failed with "maximum recursion
depth exceeded", and an envelope of them slowed every member's requests. Real IOC
patterns have a handful of comparisons, so these limits refuse such a pattern in
microseconds and keep every accepted one far from the recursion limits of the dedup
canonicaliser (~400 comparisons or path steps) and of stix2-patterns (~1,000).

The scan is one linear pass that follows the lexer's rules for what hides structure:
string literals (:data:`~cityshield.stix.literals.STRING_LITERAL`, including the bodies
of ``t''``, ``h''`` and ``b''`` literals), ``/* */`` comments and ``//`` line comments.
A quote that starts no valid literal, or a comment that never ends, is refused here: the
lexer would resume reading code inside it, so the counts could no longer be trusted (and
stix2-patterns refuses such a pattern anyway -- no parser rule accepts a stray quote or
``/``).

What is counted, outside literals and comments:

* comparisons -- one per object path (its ``:``; the grammar uses ``:`` nowhere else), plus
  one per further element of an ``IN (...)`` list (its ``,``; ditto);
* nesting depth -- ``(`` and ``[`` together;
* observation expressions -- ``[`` at the top level (a ``[`` inside one is a list index);
* object path steps -- ``.`` and list-index ``[`` after the latest ``:`` (a float's ``.``
  may be counted too: an over-count by one, never an under-count).
"""

from __future__ import annotations

import re

from cityshield.stix.literals import STRING_LITERAL

__all__ = [
    "MAX_COMPARISONS",
    "MAX_DEPTH",
    "MAX_OBSERVATIONS",
    "MAX_PATH_STEPS",
    "MAX_PATTERN_LENGTH",
    "pattern_limit_reason",
]

MAX_PATTERN_LENGTH = 16_384  # characters
MAX_COMPARISONS = 256
MAX_DEPTH = 16  # parentheses and square brackets, together
MAX_OBSERVATIONS = 64
MAX_PATH_STEPS = 32

_TOKEN_RE = re.compile(
    STRING_LITERAL  # group 1: a literal's body (skipped whole)
    + r"|(/\*.*?\*/|//[^\r\n]*)"  # group 2: comments (the lexer skips them)
    + r"|([][():,.])"  # group 3: what is counted
    + r"|('|/\*)",  # group 4: a quote or comment the lexer cannot close
    re.DOTALL,
)


def pattern_limit_reason(pattern: str) -> str | None:
    """None when ``pattern`` is within every limit, else the first limit it exceeds."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"pattern is {len(pattern)} characters; the limit is {MAX_PATTERN_LENGTH}"
    comparisons = observations = depth = max_depth = brackets = steps = max_steps = 0
    for match in _TOKEN_RE.finditer(pattern):
        char = match.group(3)
        if char is None:
            if match.group(4) == "'":
                return "pattern has a quote that starts no valid string literal"
            if match.group(4):
                return "pattern has a comment that is never closed"
            continue  # a literal or a comment
        if char == ":" or char == ",":
            comparisons += 1
            steps = 0
        elif char == "[":
            if brackets == 0:
                observations += 1
            else:
                steps += 1
            brackets += 1
            depth += 1
        elif char == "(":
            depth += 1
        elif char == ".":
            steps += 1
        elif char == "]":
            brackets = max(brackets - 1, 0)
            depth = max(depth - 1, 0)
        else:  # ")"
            depth = max(depth - 1, 0)
        max_depth = max(max_depth, depth)
        max_steps = max(max_steps, steps)
    if comparisons > MAX_COMPARISONS:
        return f"pattern has {comparisons} comparisons; the limit is {MAX_COMPARISONS}"
    if observations > MAX_OBSERVATIONS:
        return (
            f"pattern has {observations} observation expressions; the limit is {MAX_OBSERVATIONS}"
        )
    if max_depth > MAX_DEPTH:
        return f"pattern nests parentheses and brackets {max_depth} deep; the limit is {MAX_DEPTH}"
    if max_steps > MAX_PATH_STEPS:
        return f"pattern has an object path of {max_steps} steps; the limit is {MAX_PATH_STEPS}"
    return None
