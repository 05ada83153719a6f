"""STIX pattern string literals: the lexer's rule, unescaping, quoting.

A STIX 2.1 pattern string is single-quoted and knows exactly two escapes, ``\\'`` and
``\\\\`` (stix2-patterns' ``StringLiteral`` rule). Everything that reads literals out of
pattern text -- the cost scan, the validator's fast path, dedup -- uses this one rule, so
no reader can disagree with the parser about where a literal ends.
"""

from __future__ import annotations

import re

__all__ = ["STRING_LITERAL", "quote", "unescape"]

# The body of a literal; a bare quote or backslash cannot occur in it.
STRING_LITERAL = r"'((?:[^'\\]|\\['\\])*)'"

_UNESCAPE_RE = re.compile(r"\\(['\\])")


def unescape(body: str) -> str:
    """The value of a literal's body, read left to right in one pass, so an escaped
    backslash followed by an escaped quote is two characters, not three."""
    return _UNESCAPE_RE.sub(r"\1", body) if "\\" in body else body


def quote(value: str) -> str:
    """The literal for ``value`` (the inverse of :func:`unescape`)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
