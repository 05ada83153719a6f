"""Rendering the page's templates (Jinja2, autoescaped) into HTML responses.

Every page gets ``base`` (where the page is mounted; links are built from it), ``signed``
(the session, or None: the header shows the member and the sign-out form) and ``csrf``
(the token its POST forms carry). ``StrictUndefined``: a name a template expects but a
handler forgot is an error in tests, not an empty cell on an analyst's screen.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from cityshield.timefmt import format_timestamp
from cityshield.web.cookies import SIGNIN_COOKIE, base_path, set_cookie, signin_secret
from cityshield.web.indicators import summary_row
from cityshield.web.sessions import SignedIn, csrf_token

templates = Environment(
    loader=PackageLoader("cityshield.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["when"] = lambda stamp: (stamp or "")[:16].replace("T", " ")
"""A STIX timestamp as the page shows it: to the minute, UTC (the page says so)."""
templates.filters["micros"] = format_timestamp
templates.filters["row"] = summary_row
"""An analyst summary (search, lookup) as the row the indicator tables show."""
templates.filters["pretty"] = lambda value: orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
"""A stored STIX object as indented JSON, key order kept (as it was signed)."""

SIGNIN_NOTICES = {
    "expired": "Your session has ended. Sign in again to go on.",
    "signed-out": "You are signed out.",
}
"""The only texts the sign-in page shows from its query string (never the query itself)."""


def render(
    request: Request,
    template: str,
    *,
    signed: SignedIn | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    page = templates.get_template(template).render(
        base=base_path(request),
        signed=signed,
        csrf=signed.csrf if signed else "",
        **context,
    )
    return HTMLResponse(page, status_code=status)


def signin_page(
    request: Request,
    *,
    status: int = 200,
    notice: str | None = None,
    error: str | None = None,
    name: str = "",
) -> HTMLResponse:
    """The sign-in form (``name`` filled in again after a refusal; never the token), with
    its pre-session CSRF secret in a cookie (new if the browser has none)."""
    secret, new = signin_secret(request)
    response = render(
        request,
        "signin.html",
        status=status,
        signin_csrf=csrf_token(secret),
        notice=SIGNIN_NOTICES.get(notice or ""),
        error=error,
        name=name,
    )
    if new:
        set_cookie(request, response, SIGNIN_COOKIE, secret)
    return response


def error_page(request: Request, *, status: int, title: str, description: str) -> HTMLResponse:
    """An error as a page a person reads: what happened and where to go from here."""
    return render(
        request,
        "error.html",
        status=status,
        status_code=status,
        title=title,
        description=description,
    )
