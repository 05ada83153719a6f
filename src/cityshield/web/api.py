"""The web page's routes, mounted under ``/ui`` (``web.app``); each calls one service
function and renders one template.

    GET  /           the dashboard (web.dashboard)
    GET  /signin     the sign-in form
    POST /signin     open a session (web.sessions.sign_in), then the dashboard
    POST /signout    end it (web.sessions.sign_out)
    GET  /static/... the stylesheet (web.app mounts it)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from cityshield.deps import SessionDep, SettingsDep
from cityshield.jobs import registry
from cityshield.timefmt import now_micros
from cityshield.web import sessions
from cityshield.web.cookies import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    base_path,
    clear_cookie,
    cookie,
    set_cookie,
)
from cityshield.web.dashboard import build_dashboard
from cityshield.web.deps import SessionFormDep, SignedInDep, SignInFormDep, lifetime
from cityshield.web.render import render, signin_page

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, session: SessionDep, signed: SignedInDep, settings: SettingsDep
) -> HTMLResponse:
    board = build_dashboard(
        session,
        caller=signed.caller,
        now_us=now_micros(),
        job_intervals=registry.intervals(settings),
    )
    return render(request, "dashboard.html", signed=signed, board=board)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(
    request: Request, notice: Annotated[str | None, Query(max_length=20)] = None
) -> HTMLResponse:
    return signin_page(request, notice=notice)


@router.post("/signin")
def signin(
    request: Request, form: SignInFormDep, session: SessionDep, settings: SettingsDep
) -> Response:
    secret = sessions.sign_in(
        session,
        name=form.get("name", ""),
        token=form.get("token", ""),
        lifetime=lifetime(settings),
        now_us=now_micros(),
    )
    response = RedirectResponse(base_path(request) + "/", status_code=303)
    set_cookie(request, response, SESSION_COOKIE, secret)
    clear_cookie(request, response, SIGNIN_COOKIE)
    return response


@router.post("/signout")
def signout(request: Request, form: SessionFormDep, session: SessionDep) -> Response:
    sessions.sign_out(session, secret=cookie(request, SESSION_COOKIE))
    response = RedirectResponse(base_path(request) + "/signin?notice=signed-out", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    return response
