"""Opaque ``next`` tokens for keyset pagination.

A token carries the last date_added of the page and the fingerprint of the filters it was
issued for; reusing it with other filters is a 400, not a silently wrong page.
"""

from __future__ import annotations

import base64
import binascii

from cityshield.errors import InvalidFilter


def encode_cursor(last_added_us: int, fingerprint: str) -> str:
    raw = f"{last_added_us}:{fingerprint}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, fingerprint: str) -> int:
    """The date_added position a token stands for; InvalidFilter if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        position, _, issued_for = raw.partition(":")
        value = int(position)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidFilter(f"next token {token!r} is not valid.") from exc
    if issued_for != fingerprint:
        raise InvalidFilter("next token was issued for different filters; repeat them unchanged.")
    return value
