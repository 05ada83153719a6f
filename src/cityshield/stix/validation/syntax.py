"""The lexical rules of STIX 2.1 JSON the validator checks before anything else:
identifiers, type and property names, timestamps.

Stricter than stix2, which also takes braces, ``urn:uuid:`` and undashed UUIDs, one-digit
timestamp fields and a lowercase ``t``/``z``: the hub stores and redistributes the JSON
exactly as received, so what it accepts must be what the specification says.
"""

from __future__ import annotations

import re
from datetime import datetime

CUSTOM_PROP_RE = re.compile(r"x_[a-z0-9_]{1,247}")
# STIX 2.1 property names: ASCII a-z, 0-9, underscore, 3..250 chars, first a letter.
PROP_NAME_RE = re.compile(r"[a-z][a-z0-9_]{2,249}")
# STIX 2.1 type names (same rule stix2 applies), length checked separately.
TYPE_RE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*-?")
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
ID_RE = re.compile(r"([a-z][a-z0-9-]*)--(" + UUID + ")")
EXT_DEF_ID_RE = re.compile(r"extension-definition--" + UUID)
_TS_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,6}))?Z"
)


def parse_ts(value: object) -> datetime | None:
    """A naive UTC datetime for a strict STIX timestamp string, else None."""
    if type(value) is not str:
        return None
    m = _TS_RE.fullmatch(value)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac = m.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int(frac.ljust(6, "0")) if frac else 0,
        )
    except ValueError:  # month 13, Feb 30, second 60, year 0 ...
        return None
