"""The one place STIX/TAXII timestamps are parsed and formatted.

Internally every timestamp is an integer count of microseconds since the epoch (UTC): it
compares exactly, sorts in SQL, and keyset pagination on it never loses precision.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, datetime

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(Z|z|[+-](?:[01]\d|2[0-3]):[0-5]\d)\Z",  # \Z: "$" would also take a final newline
    re.ASCII,  # \d is [0-9]: int() would also read "٢٠٢٦" as 2026
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_timestamp(text: str) -> int:
    """Parse an RFC 3339 timestamp into epoch microseconds; ValueError if it is not one.

    Sub-microsecond digits are truncated (STIX allows them, nothing here needs them).
    """
    match = _TIMESTAMP.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    year, month, day, hour, minute, second, frac, zone = match.groups()
    dt = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    micros = int((frac or "0").ljust(6, "0")[:6])
    offset = 0
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6])) * 1_000_000
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros - offset


def format_timestamp(micros: int) -> str:
    """Format epoch microseconds as a STIX timestamp in UTC.

    Millisecond precision when the value has no finer part (the STIX convention for
    created/modified), microseconds otherwise, so the text always round-trips.
    """
    seconds, us = divmod(micros, 1_000_000)
    base = _utc_second(seconds)
    if us % 1000 == 0:
        return f"{base}.{us // 1000:03d}Z"
    return f"{base}.{us:06d}Z"


def format_date_added(micros: int) -> str:
    """date_added always carries microseconds: it is a keyset cursor clients echo back."""
    seconds, us = divmod(micros, 1_000_000)
    return f"{_utc_second(seconds)}.{us:06d}Z"


@functools.lru_cache(maxsize=4096)
def _utc_second(seconds: int) -> str:
    """The text of a UTC second: a page or a publication formats thousands of timestamps,
    most of them within a few seconds of each other, and strftime costs more than the
    rest of the formatting."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def now_micros() -> int:
    return time.time_ns() // 1000
