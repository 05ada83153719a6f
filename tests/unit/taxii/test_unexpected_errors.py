"""An exception no handler knows is a complete TAXII 500, and the client's keep-alive
connection carries its next request (Starlette's own catch-all re-raises after answering,
and uvicorn then closes the connection under the client's feet)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from cityshield.main import _unexpected_error
from cityshield.middleware import UnexpectedErrors
from tests.utils.postgres import free_port
from tests.utils.server import TAXII, ServerThread


async def _boom(_request: Request) -> Response:
    raise RuntimeError("a bug")


async def _ok(_request: Request) -> Response:
    return PlainTextResponse("ok")


async def _half(_request: Request) -> Response:
    async def body() -> Iterator[bytes]:  # type: ignore[misc]
        yield b"partial"
        raise RuntimeError("a bug after the response started")

    return StreamingResponse(body())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = Starlette(
        routes=[Route("/boom", _boom), Route("/ok", _ok), Route("/half", _half)],
        middleware=[Middleware(UnexpectedErrors, render=_unexpected_error)],
    )
    port = free_port()
    server = ServerThread(app, port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_unexpected_error_is_a_taxii_500_on_a_connection_that_stays_open(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        for _ in range(3):
            failed = client.get("/boom")
            assert failed.status_code == 500
            assert failed.headers["content-type"] == TAXII
            assert failed.json()["http_status"] == "500"
            assert "connection" not in failed.headers
            fine = client.get("/ok")
            assert fine.status_code == 200
            stream = fine.extensions["network_stream"]
            assert stream.get_extra_info("client_addr") == failed.extensions[
                "network_stream"
            ].get_extra_info("client_addr")


def test_error_after_the_response_started_ends_the_connection(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/half")
