"""FastAPI dependencies shared by every router: the database session and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from cityshield.config import Settings
from cityshield.members.auth import authenticate
from cityshield.policy.caller import Caller


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; committed by the handler's service call, else rolled back."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


SessionDep = Annotated[Session, Depends(get_session)]


def get_caller(request: Request, session: SessionDep) -> Caller:
    return authenticate(session, request.headers.get("authorization"))


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
