"""The last line of error handling: an exception no handler knows becomes a complete TAXII
500 on a connection that stays usable.

Starlette's own catch-all (``ServerErrorMiddleware``, where an ``Exception`` handler is
installed) sends the 500 and then re-raises, so that the server logs it; uvicorn, seeing
an exception after the response started, closes the connection. The client's next request
on that keep-alive connection then fails with a reset, which a poller reports as the hub
being down. This middleware sits inside it: it logs the exception itself and finishes the
response, and re-raises only when the response had already started (half a response can
only be ended by closing the connection).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cityshield")


class UnexpectedErrors:
    """ASGI middleware; ``render()`` builds the 500 response."""

    def __init__(self, app: ASGIApp, render: Callable[[], Response]) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                raise
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            await self.render()(scope, receive, send)
