"""FastAPI dependencies shared by every router: the app's state, the session and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine
from sqlmodel import Session

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.dedup.hub_context import HubContext
from cityshield.errors import CityShieldError
from cityshield.members.auth import authenticate
from cityshield.members.caller import Caller


@dataclass
class AppState:
    """What the app holds for its lifetime, typed: handlers reach it through the
    dependencies below, never through untyped ``request.app.state`` attributes, so a
    renamed field is a type error rather than an ``AttributeError`` on some request."""

    settings: Settings
    engine: Engine | None = None
    """Set when the lifespan starts (the schema is upgraded first)."""
    hub: HubContext | None = None
    """The hub's identity, signing key and ageing rules, loaded at start-up."""


class HubNotStarted(CityShieldError):
    http_status, title = 503, "Hub not started"


def attach_state(app: FastAPI, state: AppState) -> None:
    app.state.cityshield = state


def app_state(request: Request) -> AppState:
    state = request.app.state.cityshield
    assert isinstance(state, AppState)
    return state


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the handler succeeds, else rolled back.
    (Write handlers also commit before answering, so a 202 is never sent for data that
    could still fail to commit.)

    ``scope="function"`` ends the session when the handler returns, before the response
    is sent: a client that reads its response slowly must not hold a database connection.
    """
    engine = app_state(request).engine
    if engine is None:
        raise HubNotStarted("The hub is still starting; retry in a moment.")
    with session_scope(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_caller(request: Request, session: SessionDep) -> Caller:
    return authenticate(session, request.headers.get("authorization"))


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_app_settings(request: Request) -> Settings:
    return app_state(request).settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_hub_context(request: Request) -> HubContext:
    hub = app_state(request).hub
    if hub is None:
        raise HubNotStarted("The hub is still starting; retry in a moment.")
    return hub


HubDep = Annotated[HubContext, Depends(get_hub_context)]
