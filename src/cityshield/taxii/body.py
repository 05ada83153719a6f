"""Reading a POST body within bounds of size and time, then parsing it.

A request waiting for its body holds no database connection (the handler hands it back
first; docs/architecture.md says why), but it still holds a socket, a task and the bytes
received so far. The bounds make that cost finite whatever the client does: at most
``max_length`` bytes, at most ``total_seconds`` for the whole body, and at most
``idle_seconds`` between two chunks, so a client that stops sending gets a 408 rather than
a connection held open for as long as it likes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import Request
from starlette.requests import ClientDisconnect

from cityshield import strictjson
from cityshield.config import Settings
from cityshield.errors import BadRequest, InvalidEnvelope, PayloadTooLarge, RequestTimeout

_DIGITS = re.compile(r"[0-9]{1,19}")


@dataclass(frozen=True)
class BodyLimits:
    """How much and how slowly a client may send (from the settings)."""

    max_length: int
    total_seconds: float
    idle_seconds: float

    @classmethod
    def of(cls, settings: Settings) -> BodyLimits:
        return cls(
            max_length=settings.max_content_length,
            total_seconds=settings.body_timeout_seconds,
            idle_seconds=settings.body_idle_timeout_seconds,
        )


def _check_declared(declared: str | None, max_length: int) -> None:
    """Refuse a declared Content-Length over the limit before reading a byte."""
    if declared is None:
        return
    if not _DIGITS.fullmatch(declared):
        if declared.isascii() and declared.isdigit():  # 20+ digits: certainly too large
            raise PayloadTooLarge(f"The body is {declared} bytes; the limit is {max_length}.")
        raise BadRequest(f"Content-Length must be a number of bytes, got {declared!r}.")
    if int(declared) > max_length:
        raise PayloadTooLarge(f"The body is {declared} bytes; the limit is {max_length}.")


async def read_body(request: Request, limits: BodyLimits) -> bytearray:
    """The whole body, or PayloadTooLarge / RequestTimeout / BadRequest (disconnected).

    One ``bytearray`` grows in place: the body is held once, not as a list of chunks plus
    their join.
    """
    _check_declared(request.headers.get("content-length"), limits.max_length)
    body = bytearray()
    chunks = request.stream()
    deadline = anyio.current_time() + limits.total_seconds
    while True:
        remaining = deadline - anyio.current_time()
        idle = remaining > limits.idle_seconds
        try:
            if remaining <= 0:
                raise TimeoutError
            with anyio.fail_after(limits.idle_seconds if idle else remaining):
                chunk = await chunks.__anext__()
        except StopAsyncIteration:
            return body
        except TimeoutError:
            if idle:
                raise RequestTimeout(
                    f"The body stopped arriving for {limits.idle_seconds:g} s; "
                    "send it without pauses."
                ) from None
            raise RequestTimeout(
                f"The body took longer than {limits.total_seconds:g} s to arrive "
                f"({len(body)} bytes received)."
            ) from None
        except ClientDisconnect:
            raise BadRequest("The client closed the connection before the body ended.") from None
        if len(body) + len(chunk) > limits.max_length:
            raise PayloadTooLarge(f"The body exceeds the limit of {limits.max_length} bytes.")
        body += chunk


def parse_json(body: bytearray) -> Any:
    """The body as JSON (InvalidEnvelope if it is not; DuplicateKey if a key repeats).

    CPU-bound (a few ms per MB): run it off the event loop.
    """
    try:
        return strictjson.loads(body)
    except ValueError as exc:
        raise InvalidEnvelope(f"The body is not valid JSON: {exc}.") from exc
