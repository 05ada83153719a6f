"""Opaque ``next`` tokens for keyset pagination.

A token carries the last date_added of the page and the fingerprint of the filters it was
issued for; reusing it with other filters is a 400, not a silently wrong page.
"""

from __future__ import annotations

import base64
import binascii
import re

from cityshield.errors import InvalidFilter

_POSITION = re.compile(r"[0-9]{1,19}")
_MAX_POSITION = 2**63 - 1
"""date_added is a signed 64-bit integer of microseconds in both databases."""


def encode_cursor(last_added_us: int, fingerprint: str) -> str:
    raw = f"{last_added_us}:{fingerprint}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def split_cursor(token: str, name: str = "next") -> tuple[int, str]:
    """(date_added position, fingerprint it was issued for); InvalidFilter if it is not ours.

    The position is checked before it reaches SQL: a forged token with a 30-digit
    position would otherwise overflow the BIGINT bind (a 500 on SQLite and PostgreSQL).
    """
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidFilter(f"{name} token {_shown(token)} is not valid.") from exc
    position, _, issued_for = raw.partition(":")
    if not _POSITION.fullmatch(position) or int(position) > _MAX_POSITION:
        raise InvalidFilter(f"{name} token {_shown(token)} is not valid.")
    return int(position), issued_for


def decode_cursor(token: str, fingerprint: str) -> int:
    """The date_added position a token stands for; InvalidFilter if it is not ours or was
    issued for other filters."""
    position, issued_for = split_cursor(token)
    if issued_for != fingerprint:
        raise InvalidFilter("next token was issued for different filters; repeat them unchanged.")
    return position


def _shown(token: str) -> str:
    return repr(token if len(token) <= 60 else token[:60] + "...")
