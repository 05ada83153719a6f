"""One exception tree for the whole hub, rendered as TAXII 2.1 error messages.

Every domain raises a subclass of :class:`CityShieldError` that declares its HTTP status
and title; the single handler in ``main.py`` turns it into the TAXII error body
(``title``, ``description``, ``error_id``, ``http_status``, ``details``). Handlers never
build error JSON themselves, so every failure a client sees has the same shape.

    CityShieldError (500)
    ├── BadRequest (400)
    │   ├── InvalidFilter
    │   └── InvalidEnvelope
    │       └── DuplicateKey
    ├── Unauthenticated (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    │   ├── CollectionNotFound, ApiRootNotFound, ObjectNotFound, StatusNotFound
    ├── NotAcceptable (406)
    ├── RequestTimeout (408)
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    └── Conflict (409)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class CityShieldError(Exception):
    """Root of every error the hub reports to a client."""

    http_status: int = 500
    title: str = "Internal error"

    def __init__(self, description: str = "", **details: str) -> None:
        super().__init__(description or self.title)
        self.description = description or self.title
        self.details = details


class BadRequest(CityShieldError):
    http_status, title = 400, "Bad request"


class InvalidFilter(BadRequest):
    title = "Invalid filter"


class InvalidEnvelope(BadRequest):
    title = "Invalid envelope"


class DuplicateKey(InvalidEnvelope):
    """A JSON object names the same key twice. Parsers disagree on which value wins, so a
    signed object would mean different things to different readers: refused, never
    resolved."""


class Unauthenticated(CityShieldError):
    http_status, title = 401, "Authentication required"


class Forbidden(CityShieldError):
    http_status, title = 403, "Forbidden"


class NotFound(CityShieldError):
    http_status, title = 404, "Not found"


class ApiRootNotFound(NotFound):
    title = "API root not found"


class CollectionNotFound(NotFound):
    title = "Collection not found"


class ObjectNotFound(NotFound):
    title = "Object not found"


class StatusNotFound(NotFound):
    title = "Status not found"


class NotAcceptable(CityShieldError):
    http_status, title = 406, "Not acceptable"


class RequestTimeout(CityShieldError):
    http_status, title = 408, "Request timeout"


class Conflict(CityShieldError):
    http_status, title = 409, "Conflict"


class PayloadTooLarge(CityShieldError):
    http_status, title = 413, "Request entity too large"


class UnsupportedMediaType(CityShieldError):
    http_status, title = 415, "Unsupported media type"


def describe_invalid_request(errors: Iterable[Mapping[str, Any]]) -> str:
    """A request-validation failure's reasons in one line (``where: what; ...``), as every
    error answer (TAXII JSON or the web page) states them."""
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
