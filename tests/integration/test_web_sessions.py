"""Web page sessions, forms and roles over HTTP (no browser needed): how a session ends,
what a form without its token gets, cookie attributes, and who sees which parts of the
dashboard. The browser itself is in ``test_web_page.py``."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from cityshield.db import session_scope
from cityshield.delivery.credentials import cipher
from cityshield.delivery.targets import TargetSpec, register_target
from cityshield.members.service import rotate_token
from cityshield.web import sessions
from cityshield.web.errors import FormRefused, SessionExpired, SignInRefused, SignInRequired
from cityshield.web.models import WebSession
from cityshield.web.sessions import Lifetime
from tests.utils.server import Hub, running_hub
from tests.utils.web import csrf, signed_in_client

MINUTE = 60_000_000
LIFETIME = Lifetime(idle_us=30 * MINUTE, max_us=12 * 60 * MINUTE)
NOW = 1_900_000_000_000_000


def test_a_session_ends_when_idle_too_old_signed_out_or_the_token_changes(hub: Hub) -> None:
    member = hub.member()
    with session_scope(hub.engine) as session:
        opened = [
            sessions.sign_in(
                session, name=member.name, token=member.token, lifetime=LIFETIME, now_us=NOW
            )
            for _ in range(4)
        ]
    idle, old, out, rotated = opened

    def check(secret: str, now_us: int) -> None:
        with session_scope(hub.engine) as session:
            sessions.signed_in(session, secret=secret, lifetime=LIFETIME, now_us=now_us)

    for minute in range(25, 12 * 60, 25):  # used every 25 minutes: alive all shift
        check(old, NOW + minute * MINUTE)
    with pytest.raises(SessionExpired):
        check(old, NOW + 12 * 60 * MINUTE)
    check(idle, NOW + 29 * MINUTE)
    with pytest.raises(SessionExpired):
        check(idle, NOW + 60 * MINUTE)
    with session_scope(hub.engine) as session:
        sessions.sign_out(session, secret=out)
    with pytest.raises(SessionExpired):
        check(out, NOW + MINUTE)
    check(rotated, NOW + MINUTE)
    with session_scope(hub.engine) as session:
        rotate_token(session, name=member.name)
    with pytest.raises(SessionExpired):
        check(rotated, NOW + 2 * MINUTE)
    with pytest.raises(SignInRequired):
        check("", NOW)


def test_sign_in_needs_the_members_own_name_and_token(hub: Hub) -> None:
    member, other = hub.member(), hub.member()
    attempts = [
        (member.name, other.token),
        (other.name, member.token),
        (member.name, ""),
        ("", member.token),
        (member.name, member.token + "x"),
    ]
    with session_scope(hub.engine) as session:
        for name, token in attempts:
            with pytest.raises(SignInRefused):
                sessions.sign_in(session, name=name, token=token, lifetime=LIFETIME, now_us=NOW)


def test_ended_sessions_are_purged_at_the_next_sign_in(hub: Hub) -> None:
    member = hub.member()
    with session_scope(hub.engine) as session:
        sessions.sign_in(session, name=member.name, token=member.token, lifetime=LIFETIME, now_us=1)
        sessions.sign_in(
            session, name=member.name, token=member.token, lifetime=LIFETIME, now_us=NOW
        )
        left = (
            session.query(WebSession).filter(col(WebSession.member_id) == member.member_id).count()
        )
    assert left == 1


def test_a_form_token_is_bound_to_its_session() -> None:
    one, two = sessions.new_secret(), sessions.new_secret()
    sessions.check_csrf(one, sessions.csrf_token(one))
    for secret, token in [(one, sessions.csrf_token(two)), (one, ""), (None, "x"), (one, None)]:
        with pytest.raises(FormRefused):
            sessions.check_csrf(secret, token)


def test_an_ended_session_sends_the_browser_to_sign_in_and_drops_the_cookie(hub: Hub) -> None:
    member = hub.member()
    with signed_in_client(hub, member) as client:
        assert client.get("/").status_code == 200
        with session_scope(hub.engine) as session:
            session.execute(
                update(WebSession)
                .where(col(WebSession.member_id) == member.member_id)
                .values(seen_us=0)
            )
        answer = client.get("/")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/ui/signin?notice=expired"
        assert 'cityshield_session=""' in answer.headers["set-cookie"]
        page = client.get("/signin?notice=expired").text
        assert "Your session has ended" in page
        assert 'id="notice"' not in client.get("/signin?notice=<b>").text, "fixed texts only"


def test_forms_without_their_token_are_refused_and_change_nothing(hub: Hub) -> None:
    member = hub.member()
    with signed_in_client(hub, member) as client:
        token = csrf(client.get("/").text)
        refused = [
            client.post("/signout", data={}),
            client.post("/signout", data={"csrf_token": "0" * 64}),
            client.post("/signout", content=f'{{"csrf_token": "{token}"}}'),
            client.post(
                "/signout", data={"csrf_token": token}, headers={"Content-Type": "text/plain"}
            ),
        ]
        for answer in refused:
            assert answer.status_code == 403, answer.text
            assert answer.headers["content-type"].startswith("text/html")
            assert "<h1>Form refused</h1>" in answer.text
        assert client.get("/").status_code == 200, "still signed in"
        twice = client.post(
            "/signout",
            content=f"csrf_token={token}&csrf_token={token}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert twice.status_code == 400 and "twice" in twice.text
        out = client.post("/signout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/ui/signin?notice=signed-out"
        assert client.get("/").headers["location"] == "/ui/signin"
    with httpx.Client(base_url=f"{hub.base_url}/ui") as stranger:  # no pre-session cookie
        answer = stranger.post("/signin", data={"name": member.name, "token": member.token})
        assert answer.status_code == 403


def test_errors_are_pages_with_their_status(hub: Hub) -> None:
    with httpx.Client(base_url=f"{hub.base_url}/ui") as client:
        for path, method, status in [("/no-such-page", "GET", 404), ("/signout", "GET", 405)]:
            answer = client.request(method, path)
            assert answer.status_code == status
            assert answer.headers["content-type"].startswith("text/html")
            assert f"HTTP {status}" in answer.text
        assert client.get("/signin?notice=" + "x" * 50).status_code == 400
        assert client.get(f"{hub.base_url}/ui").status_code in (307, 308)


def test_the_dashboard_by_role(hub: Hub) -> None:
    city, other, admin = hub.member(), hub.member(), hub.member(role="admin")
    with session_scope(hub.engine) as session:
        for name, url in [
            (city.name, "https://city.example/api1/"),
            (other.name, "https://other.example/api1/"),
        ]:
            register_target(
                session,
                member_name=name,
                spec=TargetSpec(url, "c"),
                fernet=cipher(hub.settings.home),
                now_us=NOW,
            )
    with signed_in_client(hub, city) as client:
        page = client.get("/").text
        assert "https://city.example/api1/" in page
        assert "https://other.example/api1/" not in page, "another member's target"
        assert 'id="jobs"' not in page
    with signed_in_client(hub, admin) as client:
        page = client.get("/").text
        assert "https://city.example/api1/" in page and "https://other.example/api1/" in page
        assert 'id="jobs-table"' in page and "network-publication" in page


@pytest.fixture(scope="module")
def https_hub() -> Iterator[Hub]:
    with running_hub("sqlite", None, public_url="https://hub.example") as running:
        yield running


def test_cookies_are_secure_behind_https(https_hub: Hub) -> None:
    member = https_hub.member()
    with httpx.Client(base_url=f"{https_hub.base_url}/ui") as client:
        form = client.get("/signin")
        assert "Strict-Transport-Security" in form.headers
        cookie = form.headers["set-cookie"]
        for attribute in ("Secure", "HttpOnly", "SameSite=strict", "Path=/ui/"):
            assert attribute in cookie
        pre = form.cookies["cityshield_signin"]
        answer = client.post(
            "/signin",
            data={"name": member.name, "token": member.token, "csrf_token": csrf(form.text)},
            cookies={"cityshield_signin": pre},
        )
        assert answer.status_code == 303
        session_cookie = next(
            c for c in answer.headers.get_list("set-cookie") if c.startswith("cityshield_session=")
        )
        for attribute in ("Secure", "HttpOnly", "SameSite=strict"):
            assert attribute in session_cookie
        assert "Max-Age" not in session_cookie, "a browser-session cookie"
