"""Exports in tests: AMBER reports a test's own group alone sees, and requests as a member.

Test modules share a hub, and every member sees every GREEN report; a test that checks a
whole list therefore reports AMBER within a group of its own, which only its members see.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from cityshield.db import session_scope
from cityshield.flows.policy import load_policy_files
from cityshield.stix.vocabulary import TLP2_IDS
from tests.utils.server import Hub, TestMember, submit
from tests.utils.stix import indicator

AMBER = TLP2_IDS["amber"]
_hosts = itertools.count(1)


def amber(pattern: str, **extra: Any) -> dict[str, Any]:
    """An AMBER indicator of ``pattern`` (seen by members sharing a group with its author)."""
    return indicator(pattern=pattern, object_marking_refs=[AMBER], **extra)


def ip(value: str, **extra: Any) -> dict[str, Any]:
    kind = "ipv6-addr" if ":" in value else "ipv4-addr"
    return amber(f"[{kind}:value = '{value}']", **extra)


def domain() -> str:
    return f"host{next(_hosts)}-{uuid.uuid4().hex[:6]}.evil.example"


def report(hub: Hub, member: TestMember, *objects: dict[str, Any]) -> None:
    """Submit and publish (as the worker would within a moment)."""
    submit(hub, member, *objects)


def group(hub: Hub, size: int) -> list[TestMember]:
    """``size`` members of a fresh group: they alone see each other's AMBER reports."""
    name = hub.unique("g")
    return [hub.member(groups=[name]) for _ in range(size)]


def get(
    hub: Hub,
    member: TestMember | None,
    path: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """GET ``path`` (e.g. ``/api/v1/export/edl``) as ``member`` (None: anonymous)."""
    auth = (member.name, member.token) if member else None
    with httpx.Client(base_url=hub.base_url, auth=auth, timeout=60) as client:
        return client.get(path, params=params, headers=headers)


def export(
    hub: Hub,
    member: TestMember | None,
    fmt: str,
    headers: dict[str, str] | None = None,
    **params: str,
) -> httpx.Response:
    return get(hub, member, f"/api/v1/export/{fmt}", params, headers)


def lines(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    text = response.text
    assert text == "" or text.endswith("\n")
    return text.splitlines()


def assert_taxii_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/taxii+json")
    body: dict[str, Any] = response.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    return body


@contextmanager
def policy(hub: Hub, tmp_path: Path, text: str) -> Iterator[None]:
    """A sharing policy in force for the block, then none again (the hub is shared)."""
    path = tmp_path / f"policy-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(text, encoding="utf-8")
    empty = tmp_path / "empty-policy.yaml"
    empty.write_text("version: 1\n", encoding="utf-8")
    with session_scope(hub.engine) as session:
        load_policy_files(session, [path])
    hub.publish_network()
    try:
        yield
    finally:
        with session_scope(hub.engine) as session:
            load_policy_files(session, [empty])
        hub.publish_network()
