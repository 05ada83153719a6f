"""The page's two cookies: the session, and the sign-in form's pre-session CSRF secret.

Both are ``HttpOnly`` (no script may read them; the page has none anyway),
``SameSite=Strict`` (never sent with a request another site starts, so a forged form
post arrives without them), ``Secure`` when the hub's public URL is https, scoped to the
page's path, and without ``Max-Age``: they end with the browser, and the server ends the
session before that (``web.sessions``). They hold random secrets and nothing else.
"""

from __future__ import annotations

from fastapi import Request, Response

from cityshield.deps import app_state
from cityshield.web.security import served_over_https
from cityshield.web.sessions import new_secret

SESSION_COOKIE = "cityshield_session"
SIGNIN_COOKIE = "cityshield_signin"
_SECRET_LENGTH = 43
"""``secrets.token_urlsafe(32)``'s length: a cookie of another shape is not ours."""


def base_path(request: Request) -> str:
    """Where the page is mounted (``/ui``, behind any proxy prefix): every link and
    cookie path is built from it."""
    return str(request.scope.get("root_path", ""))


def https(request: Request) -> bool:
    return served_over_https(app_state(request).settings)


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path=base_path(request) + "/",
        httponly=True,
        samesite="strict",
        secure=https(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(
        name, path=base_path(request) + "/", httponly=True, samesite="strict", secure=https(request)
    )


def cookie(request: Request, name: str) -> str | None:
    value = request.cookies.get(name)
    return value if value is not None and len(value) == _SECRET_LENGTH else None


def signin_secret(request: Request) -> tuple[str, bool]:
    """The pre-session secret of the sign-in form: the browser's own if it has one (two
    tabs keep working), else a new one; and whether it is new (then set the cookie)."""
    existing = cookie(request, SIGNIN_COOKIE)
    return (existing, False) if existing else (new_secret(), True)
