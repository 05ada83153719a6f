"""OpenTAXII 0.9.3's WSGI app with the one fix its TAXII 2.1 mode needs to answer at all.

0.9.3 serialises responses with plain ``json.dumps``, but its SQL persistence returns ids
as ``uuid.UUID``: every POST to a collection's objects (the status carries the job's
UUID) and the collections list answer 500 "Object of type UUID is not JSON serializable",
after the objects were stored (upstream issue #243; fixed by PR #289, merged after 0.9.3
and unreleased as of this writing). The fix below is upstream's, applied where
``opentaxii.server`` looks the function up; nothing else is changed. Run by gunicorn as
``bench.opentaxii_app:app`` with ``OPENTAXII_CONFIG`` set (read at import).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import opentaxii.server
from flask import Response, make_response


def _json_default(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def make_taxii2_response(
    data: Any, status: int | None = 200, extra_headers: dict[str, str] | None = None
) -> Response:
    """Upstream's ``make_taxii2_response`` after PR #289."""
    if not isinstance(data, str):
        data = json.dumps(data, default=_json_default)
    response = make_response((data, status))
    response.content_type = "application/taxii+json;version=2.1"
    response.headers.update(extra_headers or {})
    return response


opentaxii.server.make_taxii2_response = make_taxii2_response  # type: ignore[attr-defined]

from opentaxii.http import app, logconfig_dict  # noqa: E402  (after the fix, which it uses)

__all__ = ["app", "logconfig_dict"]
