"""Reading the page's POST forms: URL-encoded, bounded in size and time, each field once.

Read before the handler touches the database (the body may be slow to arrive; a request
waiting on the network holds no connection: docs/architecture.md), with the same bounds
as TAXII bodies (``taxii.body.read_body``). A field named twice is refused rather than
resolved, as a JSON key twice is: two readers of one form must not see different values.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

from cityshield.taxii.body import BodyLimits, read_body
from cityshield.web.errors import BadForm, FormRefused

FORM_TYPE = "application/x-www-form-urlencoded"
SMALL_FORM = 16 * 1024
"""Sign-in, sign-out and other one-line forms; a bulk-lookup box passes its own limit."""
MAX_FIELDS = 50


async def read_form(request: Request, limits: BodyLimits) -> dict[str, str]:
    """The form's fields; BadForm for a form our pages never send, FormRefused (403)
    for a body that is no URL-encoded form: it cannot carry a CSRF token, so it is refused
    as a forged post is, before a byte of it is read."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        raise FormRefused(
            f"The page's forms are sent as {FORM_TYPE}; this request sent "
            f"{media_type or 'no form'}, so it did not come from one of them."
        )
    body = await read_body(request, limits)
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadForm(f"The form could not be read: {exc}.") from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise BadForm(f"The form sends {name!r} twice.")
        fields[name] = value
    return fields
