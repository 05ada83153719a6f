"""Driving the web page over plain HTTP, as a browser without JavaScript does: sign in
through the form, then read pages and post forms with the session cookie and the page's
CSRF token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.utils.server import Hub, TestMember


def csrf(page: str) -> str:
    """The CSRF token of a page's forms."""
    match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page)
    assert match, page
    return match.group(1)


@contextmanager
def signed_in_client(hub: Hub, member: TestMember) -> Iterator[httpx.Client]:
    """A client holding a session of ``member`` (signed in through the form), with
    ``/ui`` as its base."""
    with httpx.Client(base_url=f"{hub.base_url}/ui", timeout=60) as client:
        form = client.get("/signin")
        answer = client.post(
            "/signin",
            data={"name": member.name, "token": member.token, "csrf_token": csrf(form.text)},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/", answer.text
        yield client
