"""Request dependencies of the web page: the signed-in member, and POST forms checked
against CSRF.

New pages take ``SignedInDep`` (GET: a page for a signed-in member) or, for a form that
changes something, ``SessionFormDep`` first and ``SignedInDep`` after it. A form
dependency reads the body and checks its token before the handler's first query, so a
slow body holds no database connection and a forged post never reaches the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from cityshield.config import Settings
from cityshield.deps import SessionDep, SettingsDep
from cityshield.taxii.body import BodyLimits
from cityshield.timefmt import now_micros
from cityshield.web.cookies import SESSION_COOKIE, SIGNIN_COOKIE, cookie
from cityshield.web.forms import SMALL_FORM, read_form
from cityshield.web.sessions import Lifetime, SignedIn, check_csrf, signed_in


def lifetime(settings: Settings) -> Lifetime:
    return Lifetime(
        idle_us=round(settings.ui_session_idle_minutes * 60e6),
        max_us=round(settings.ui_session_hours * 3600e6),
    )


def get_signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> SignedIn:
    return signed_in(
        session,
        secret=cookie(request, SESSION_COOKIE),
        lifetime=lifetime(settings),
        now_us=now_micros(),
    )


SignedInDep = Annotated[SignedIn, Depends(get_signed_in)]


def checked_form(
    secret_cookie: str, max_length: int | None = SMALL_FORM
) -> Callable[[Request, Settings], Awaitable[dict[str, str]]]:
    """A dependency: the posted form, whose ``csrf_token`` must be the one derived from
    the ``secret_cookie`` cookie (FormRefused, a 403 page, otherwise); at most
    ``max_length`` bytes (None: the hub's POST limit, ``max_content_length``)."""

    async def form(request: Request, settings: SettingsDep) -> dict[str, str]:
        fields = await read_form(request, BodyLimits.from_settings(settings, max_length))
        check_csrf(cookie(request, secret_cookie), fields.get("csrf_token"))
        return fields

    return form


SignInFormDep = Annotated[dict[str, str], Depends(checked_form(SIGNIN_COOKIE))]
"""The sign-in form: checked against the pre-session cookie (there is no session yet)."""
SessionFormDep = Annotated[dict[str, str], Depends(checked_form(SESSION_COOKIE))]
"""Any form of a signed-in page: checked against the session cookie."""
