"""FastAPI dependencies shared by every router: the database session and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.members.auth import authenticate
from cityshield.members.caller import Caller


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the handler succeeds, else rolled back.
    (Write handlers also commit before answering, so a 202 is never sent for data that
    could still fail to commit.)

    ``scope="function"`` ends the session when the handler returns, before the response
    is sent: a client that reads its response slowly must not hold a database connection.
    """
    with session_scope(request.app.state.engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_caller(request: Request, session: SessionDep) -> Caller:
    return authenticate(session, request.headers.get("authorization"))


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
