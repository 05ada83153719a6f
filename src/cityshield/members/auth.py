"""HTTP authentication: HTTP Basic (user = member name, password = token) or Bearer token."""

from __future__ import annotations

import base64
import binascii

from sqlmodel import Session

from cityshield.errors import Unauthenticated
from cityshield.members.caller import Caller
from cityshield.members.service import caller_for_token

CHALLENGE = 'Basic realm="cityshield", Bearer realm="cityshield"'


def authenticate(session: Session, authorization: str | None) -> Caller:
    """The caller behind an Authorization header; Unauthenticated otherwise.

    The error never says whether the name or the token was wrong.
    """
    if not authorization:
        raise Unauthenticated("Send HTTP Basic (member name and token) or a Bearer token.")
    scheme, _, credentials = authorization.partition(" ")
    credentials = credentials.strip()
    caller: Caller | None = None
    if scheme.lower() == "bearer" and credentials:
        caller = caller_for_token(session, token=credentials)
    elif scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unauthenticated("Malformed HTTP Basic credentials.") from exc
        name, sep, token = decoded.partition(":")
        if sep:
            caller = caller_for_token(session, token=token, name=name)
    if caller is None:
        raise Unauthenticated("Invalid credentials.")
    return caller
