"""Everything a ``stix`` pattern must pass at ingest, on one fail-fast parse.

stix2 validates a pattern by running stix2-patterns' ``run_validator``, whose parser
recovers from syntax errors and keeps going: 16 KB of garbage cost ~1 s of CPU, and a
valid pattern had to be parsed a second time to read its values. So the ingest validator
does the whole job here and shows stix2 the pattern as one of a type it does not parse
(:data:`UNPARSED_PATTERN_TYPE`):

1. the cost limits of :mod:`cityshield.stix.pattern_limits` (microseconds, no parser);
2. what ``run_validator`` checks, from stix2-patterns' own pieces, on a tree parsed with
   its fail-fast ``Pattern`` (parsing stops at the first error): the leading bracket,
   the syntax, duplicate qualifiers (2.1) and the hash formats it knows;
3. the observable values (:mod:`cityshield.stix.observables`): every string literal
   against the general rules, and the literals of ``=``, ``!=``, ``IN``, ``ISSUBSET`` and
   ``ISSUPERSET`` (negated or not) against their observable's rules too. ``LIKE`` and
   ``MATCHES`` take wildcards and regular expressions, and ordering operators compare
   text, so their literals are not values of the observable.

A property test keeps step 2 exactly as strict as ``run_validator``.
"""

from __future__ import annotations

import re
from typing import Any

from stix2patterns.exceptions import ParseException
from stix2patterns.helpers import brackets_check
from stix2patterns.inspector import INDEX_STAR
from stix2patterns.v20 import object_validator as objects20
from stix2patterns.v20.pattern import Pattern as Pattern20
from stix2patterns.v21 import object_validator as objects21
from stix2patterns.v21.pattern import Pattern as Pattern21
from stix2patterns.v21.validator import DuplicateQualifierTypeError, ValidationListener

from cityshield.stix.literals import STRING_LITERAL, unescape
from cityshield.stix.observables import observable_reason, value_reason
from cityshield.stix.pattern_limits import pattern_limit_reason

__all__ = ["UNPARSED_PATTERN_TYPE", "pattern_reason", "show_value"]

# A pattern_type from the STIX vocabulary that stix2 leaves unparsed: what it is shown in
# place of "stix" once the pattern passed pattern_reason.
UNPARSED_PATTERN_TYPE = "pcre"

# A string element of a comparison's literal text as stix2-patterns' inspector gives it
# (the tokens joined: "'a'" or "('a',1,t'...')"); t'', h'' and b'' literals are skipped.
_STRING_ELEMENT_RE = re.compile(r"(?:^|[(,])" + STRING_LITERAL)
_VALUE_OPERATORS = frozenset({"=", "!=", "IN", "ISSUBSET", "ISSUPERSET"})


def show_value(value: object) -> str:
    """A value as a status entry quotes it: repr, at most 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _path(steps: list[Any]) -> tuple[str, ...]:
    return tuple(
        "[*]" if step is INDEX_STAR else f"[{step}]" if isinstance(step, int) else step
        for step in steps
    )


def _grammar_reason(pattern: str, version: object) -> tuple[str | None, Any]:
    """stix2-patterns' verdict (a reason, or None when ``run_validator`` would pass it) and
    the comparisons; ``version`` picks the grammar as stix2 does (2.1 when absent or empty)."""
    v21 = version in (None, "", "2.1")
    if not pattern or not brackets_check(pattern):  # brackets_check("") raises
        return "input is missing square brackets", None
    try:
        tree = (Pattern21 if v21 else Pattern20)(pattern)
    except ParseException as exc:
        return str(exc), None
    if v21:
        try:
            tree.walk(ValidationListener())
        except DuplicateQualifierTypeError as exc:
            return str(exc), None
    data = tree.inspect()
    errors = (objects21 if v21 else objects20).verify_object(data)
    return (errors[0].removeprefix("FAIL: ") if errors else None), data.comparisons


def pattern_reason(pattern: str, pattern_version: object = None) -> str | None:
    """None when a ``stix`` pattern is within limits, valid STIX and carries only valid
    values (everything stix2 would check of it, and more); else the reason."""
    reason = pattern_limit_reason(pattern)
    if reason is not None:
        return reason
    reason, comparisons = _grammar_reason(pattern, pattern_version)
    if reason is not None:
        return f"invalid STIX pattern: {reason}"
    for obj_type, tests in comparisons.items():
        for steps, operator, text in tests:
            typed = operator.removeprefix("NOT ") in _VALUE_OPERATORS
            path = _path(steps)
            for match in _STRING_ELEMENT_RE.finditer(text):
                value = unescape(match.group(1))
                why = observable_reason(obj_type, path, value) if typed else value_reason(value)
                if why is not None:
                    return f"pattern value {show_value(value)} {why}"
    return None
