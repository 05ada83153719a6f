"""What a TAXII server's error answer becomes in a message: the same words whichever HTTP
client read it (requests under taxii2-client for submit and push, httpx for feed pulls)."""

from __future__ import annotations

import httpx
import pytest
import requests

from cityshield.client.taxii import error_text, http_error_text

URL = "http://member.example/api1/collections/c/objects/"
CASES = [
    (
        b'{"title": "Forbidden", "description": "no write access", "http_status": "403"}',
        f"HTTP 403 from {URL}: Forbidden: no write access",
    ),
    (b'{"description": "no write access"}', f"HTTP 403 from {URL}: no write access"),
    (b'{"title": ""}', f"HTTP 403 from {URL}: Forbidden"),
    (b"<html>nope</html>", f"HTTP 403 from {URL}: Forbidden"),
    (b"[1, 2]", f"HTTP 403 from {URL}: Forbidden"),
]


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_a_requests_answer(body: bytes, expected: str) -> None:
    response = requests.Response()
    response.status_code, response.reason, response.url = 403, "Forbidden", URL
    response._content = body
    assert http_error_text(requests.HTTPError(response=response)) == expected


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_an_httpx_answer_reads_the_same(body: bytes, expected: str) -> None:
    response = httpx.Response(403, content=body, request=httpx.Request("GET", URL))
    text = error_text(
        status=response.status_code,
        url=response.url,
        json=response.json,
        reason=response.reason_phrase,
    )
    assert text == expected


def test_a_requests_error_without_an_answer_is_its_own_text() -> None:
    assert http_error_text(requests.HTTPError("connection reset")) == "connection reset"
