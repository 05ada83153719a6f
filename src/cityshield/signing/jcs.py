"""RFC 8785 (JCS) canonical JSON, with a fast path for the values STIX objects are made of.

The ``rfc8785`` package is the reference; it is pure Python and costs ~50-100 µs per STIX
object, which made canonicalisation the largest single cost of signed ingest. For values
where orjson's sorted output is provably byte-identical to JCS, we use orjson:

- every object key is ASCII, so sorting by code point (orjson) equals sorting by UTF-16
  code units (JCS);
- no floats (JCS prints numbers the ECMAScript way, which orjson does not) and every
  integer lies within ±(2**53 - 1) (JCS refuses the rest);
- no string contains a control character other than the JSON short escapes, or a lone
  surrogate: for everything else both escape exactly ", \\ and the short forms and write
  other characters as UTF-8.
Anything else goes to the reference. ``tests/unit/signing/test_jcs.py`` checks, over
generated values, that the fast path agrees with ``rfc8785`` byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import rfc8785

_MAX_INT = 2**53 - 1
_ODD_CHARS = re.compile(r"[\x00-\x07\x0b\x0e-\x1f\ud800-\udfff]")


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is in the subset where orjson and JCS agree (see module doc).

    A loop over each container's items that checks strings and numbers in place, rather
    than a call (and a generator) per value: the check cost more than orjson's
    serialisation itself, and every signature made or checked pays it. Nesting deeper
    than 64 goes to the reference.
    """
    if depth > 64:
        return False
    if isinstance(value, dict):
        for key in value:
            if not (isinstance(key, str) and key.isascii() and _plain_text(key)):
                return False
        items: Any = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return _plain_scalar(value)
    if depth == 64 and value:
        return False
    for item in items:
        if isinstance(item, str):
            if not _plain_text(item):
                return False
        elif isinstance(item, dict | list):
            if not _plain(item, depth + 1):
                return False
        elif not _plain_scalar(item):
            return False
    return True


def _plain_text(text: str) -> bool:
    # Printable text has no control character or surrogate (the usual case, in C).
    return text.isprintable() or _ODD_CHARS.search(text) is None


def _plain_scalar(value: Any) -> bool:
    if isinstance(value, str):
        return _plain_text(value)
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -_MAX_INT <= value <= _MAX_INT
    return False


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 serialisation of ``value`` (raises what ``rfc8785.dumps`` raises).

    The fast path copies orjson's result: orjson hands back its bytes in an ~8 KiB
    allocation whatever their length, and a batch verification holds one per object, so
    a 600-byte signing input would cost 8 KiB until the whole envelope is verified (13x
    the posted size at peak, measured by ``bench.memory``). The copy costs ~0.1 µs.
    """
    if _plain(value):
        return bytes(memoryview(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)))
    return rfc8785.dumps(value)
