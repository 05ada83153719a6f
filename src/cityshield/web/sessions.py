"""Sign-in, sessions and their CSRF tokens for the web page.

A session is a row (``web.models.WebSession``) named by the sha256 of a 256-bit secret
the browser holds in an ``HttpOnly``, ``SameSite=Strict`` cookie; the cookie carries
nothing else. Server-side rather than a signed cookie, so that signing out, rotating a
member's token or removing a member ends the session at once, not when a cookie expires.

A session ends after ``idle`` without a request or ``max_age`` after sign-in, whichever
comes first. Every POST form carries a CSRF token derived from the session secret
(HMAC, so the token reveals nothing about the secret and needs no storage); the sign-in
form, which has no session yet, derives it from a random pre-session cookie instead, so
another site cannot sign a browser in under its own account either.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, or_
from sqlmodel import Session, col

from cityshield.members.caller import Caller
from cityshield.members.service import caller_for, caller_for_token, hash_token
from cityshield.store.models import Member
from cityshield.web.errors import FormRefused, SessionExpired, SignInRefused, SignInRequired
from cityshield.web.models import WebSession

TOUCH_EVERY_US = 60_000_000
"""A session's last-seen time is written at most once a minute: a page view is a read,
and SQLite has one writer (the idle limit is minutes, so a minute is precise enough)."""
MAX_NAME, MAX_TOKEN = 100, 200


@dataclass(frozen=True)
class Lifetime:
    """How long sessions last (from the settings), in microseconds."""

    idle_us: int
    max_us: int


@dataclass(frozen=True)
class SignedIn:
    """The member a request's session belongs to, and the CSRF token its forms carry."""

    caller: Caller
    csrf: str
    expires_us: int


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(secret: str) -> str:
    """The token a form posted under this cookie secret must carry."""
    return hmac.new(secret.encode(), b"cityshield web csrf", hashlib.sha256).hexdigest()


def check_csrf(secret: str | None, submitted: str | None) -> None:
    """FormRefused unless ``submitted`` is the token of ``secret`` (compared in constant
    time): a form another site makes the browser post has no way to know it."""
    if not secret or not submitted or not hmac.compare_digest(csrf_token(secret), submitted):
        raise FormRefused(
            "This form was not sent from a page of this session (its security token is "
            "missing or wrong). Go back, reload the page and send it again."
        )


def _id_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign_in(session: Session, *, name: str, token: str, lifetime: Lifetime, now_us: int) -> str:
    """Open a session for the member whose name and token these are; returns its secret
    (for the cookie). A new secret every time: a session id planted before sign-in
    (session fixation) never becomes a signed-in one."""
    name, token = name.strip(), token.strip()
    caller = None
    if name and token and len(name) <= MAX_NAME and len(token) <= MAX_TOKEN:
        caller = caller_for_token(session, token=token, name=name)
    if caller is None:
        raise SignInRefused("Unknown member name or wrong token.", name=name[:MAX_NAME])
    session.execute(
        delete(WebSession).where(
            or_(
                col(WebSession.expires_us) <= now_us,
                col(WebSession.seen_us) <= now_us - lifetime.idle_us,
            )
        )
    )
    secret = new_secret()
    session.add(
        WebSession(
            id_hash=_id_hash(secret),
            member_id=caller.member_id,
            token_hash=hash_token(token),
            created_us=now_us,
            seen_us=now_us,
            expires_us=now_us + lifetime.max_us,
        )
    )
    session.flush()
    return secret


def signed_in(session: Session, *, secret: str | None, lifetime: Lifetime, now_us: int) -> SignedIn:
    """The session behind a cookie: SignInRequired without one, SessionExpired when it
    ended (idle, too old, its member removed, deactivated or given a new token)."""
    if not secret:
        raise SignInRequired("Sign in with your member name and token.")
    row = session.get(WebSession, _id_hash(secret))
    member = session.get(Member, row.member_id) if row is not None else None
    if (
        row is None
        or member is None
        or not member.active
        or not hmac.compare_digest(member.token_hash, row.token_hash)
        or now_us >= row.expires_us
        or now_us - row.seen_us >= lifetime.idle_us
    ):
        raise SessionExpired("Your session has ended; sign in again.")
    if now_us - row.seen_us >= TOUCH_EVERY_US:
        row.seen_us = now_us
        session.add(row)
    return SignedIn(
        caller=caller_for(session, member),
        csrf=csrf_token(secret),
        expires_us=min(row.expires_us, row.seen_us + lifetime.idle_us),
    )


def sign_out(session: Session, *, secret: str | None) -> None:
    """End the session behind this cookie now (nothing to do without one)."""
    if secret:
        session.execute(delete(WebSession).where(col(WebSession.id_hash) == _id_hash(secret)))
