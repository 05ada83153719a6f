"""The web page as a sub-application, mounted under ``/ui`` by ``main.create_app``.

A sub-application rather than more routes on the API app, because its errors are pages for
a person, not TAXII error JSON for a client: its own handlers render every error of the
hub's exception tree (and unknown routes, wrong methods, bad query strings) as an HTML
page with the same status, send a signed-out browser to the sign-in form, and its own
middleware puts the security headers (``web.security``) on every answer, 500s included.
It shares the app's state (engine, settings), so its sessions are the API's.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityshield.deps import AppState, attach_state
from cityshield.errors import CityShieldError, describe_invalid_request
from cityshield.middleware import UnexpectedErrors
from cityshield.web.analyst import router as analyst_router
from cityshield.web.api import router
from cityshield.web.cookies import SESSION_COOKIE, base_path, clear_cookie
from cityshield.web.errors import SessionExpired, SignInRefused, SignInRequired
from cityshield.web.render import error_page, signin_page
from cityshield.web.security import SecurityHeaders, served_over_https

MOUNT = "/ui"
HTTP_TITLES = {404: "Page not found", 405: "Method not allowed"}


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    """No session (or an ended one): to the sign-in form, saying why when it ended."""
    notice = "?notice=expired" if isinstance(exc, SessionExpired) else ""
    response = RedirectResponse(f"{base_path(request)}/signin{notice}", status_code=303)
    if isinstance(exc, SessionExpired):
        clear_cookie(request, response, SESSION_COOKIE)
    return response


async def _sign_in_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRefused)
    return signin_page(
        request, status=exc.http_status, error=exc.description, name=exc.details.get("name", "")
    )


async def _hub_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CityShieldError)
    return error_page(request, status=exc.http_status, title=exc.title, description=exc.description)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        description = "There is no page at this address. The dashboard is a good place to start."
    else:
        description = str(exc.detail)
    title = HTTP_TITLES.get(exc.status_code, "Request failed")
    return error_page(request, status=exc.status_code, title=title, description=description)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    reasons = describe_invalid_request(exc.errors())
    return error_page(request, status=400, title="Bad request", description=reasons)


def _unexpected_error() -> Response:
    # Rendered without the request (the middleware has none): a fixed page, no template.
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Error · cityshield</title>"
        "<h1>Something went wrong</h1><p>The hub failed to show this page; it has been "
        "logged. Try again in a moment.</p></html>",
        status_code=500,
    )


def create_ui(state: AppState) -> FastAPI:
    """The page's application, sharing ``state`` with the API app that mounts it."""
    ui = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    attach_state(ui, state)
    ui.add_exception_handler(SignInRequired, _sign_in_first)
    ui.add_exception_handler(SignInRefused, _sign_in_refused)
    ui.add_exception_handler(CityShieldError, _hub_error)
    ui.add_exception_handler(StarletteHTTPException, _http_error)
    ui.add_exception_handler(RequestValidationError, _validation_error)
    ui.add_middleware(UnexpectedErrors, render=_unexpected_error)
    ui.add_middleware(SecurityHeaders, https=served_over_https(state.settings))
    ui.include_router(router)
    ui.include_router(analyst_router)
    ui.mount("/static", StaticFiles(packages=[("cityshield.web", "static")]), name="static")
    return ui
