"""The ASGI application: routers, the TAXII error handler, the database lifecycle."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cityshield import __version__
from cityshield.config import Settings, get_settings
from cityshield.db import make_engine, session_scope
from cityshield.delivery.api import router as delivery_router
from cityshield.deps import AppState, attach_state
from cityshield.errors import CityShieldError, describe_invalid_request
from cityshield.exports.api import router as exports_router
from cityshield.feeds.api import router as feeds_router
from cityshield.hub.service import ensure_hub, load_hub_context
from cityshield.members.auth import CHALLENGE
from cityshield.middleware import UnexpectedErrors
from cityshield.migrate import upgrade
from cityshield.policy.api import router as policy_router
from cityshield.signing.api import router as signing_router
from cityshield.signing.pool import shutdown_pool, start_pool
from cityshield.soc.api import health_router
from cityshield.soc.api import router as soc_router
from cityshield.taxii.api import router as taxii_router
from cityshield.taxii.responses import taxii_json
from cityshield.web.app import MOUNT as UI_MOUNT
from cityshield.web.app import create_ui
from cityshield.worker.api import router as jobs_router


def error_response(
    status: int, title: str, description: str, details: dict[str, str] | None = None
) -> Response:
    """The TAXII 2.1 error message (section 3.6.1); the only error body the hub sends."""
    body: dict[str, object] = {
        "title": title,
        "description": description,
        "error_id": str(uuid.uuid4()),
        "http_status": str(status),
    }
    if details:
        body["details"] = details
    response = taxii_json(body, status_code=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = CHALLENGE
    if status in (408, 413):
        # The body was not read to its end: what follows on this connection is the rest
        # of it, not a next request, so the connection cannot be reused.
        response.headers["Connection"] = "close"
    return response


async def _cityshield_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CityShieldError)
    return error_response(exc.http_status, exc.title, exc.description, exc.details)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    return error_response(
        exc.status_code, titles.get(exc.status_code, "HTTP error"), str(exc.detail)
    )


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    reasons = describe_invalid_request(exc.errors())
    return error_response(400, "Bad request", reasons)


def _unexpected_error() -> Response:
    return error_response(500, "Internal error", "The hub failed to handle this request.")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the schema is upgraded when it starts.

    The app only serves requests: background jobs run in the worker process
    (``cityshield worker``, which ``serve`` starts beside it), since a loop here would share
    the GIL and SQLite's write lock with requests (it halved ingest when it did)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.effective_database_url)
        upgrade(engine)
        with session_scope(engine) as session:
            ensure_hub(session, home=settings.home, name=settings.hub_name)
            state.hub = load_hub_context(session, settings)
        state.engine = engine
        await asyncio.to_thread(start_pool)
        gc.freeze()  # start-up objects live forever: keep them out of every GC pass
        yield
        await asyncio.to_thread(shutdown_pool)
        engine.dispose()

    app = FastAPI(
        title="cityshield",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    state = AppState(settings=settings)
    attach_state(app, state)
    app.add_exception_handler(CityShieldError, _cityshield_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(UnexpectedErrors, render=_unexpected_error)
    # The web page first: TAXII's /{api_root}/ routes would otherwise take /ui/.
    app.mount(UI_MOUNT, create_ui(state))
    app.include_router(signing_router)
    app.include_router(exports_router)
    app.include_router(policy_router)
    app.include_router(jobs_router)
    app.include_router(delivery_router)
    app.include_router(soc_router)
    app.include_router(health_router)
    app.include_router(feeds_router)
    app.include_router(taxii_router)
    return app
