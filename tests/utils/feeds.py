"""Feeds in tests: definitions written to a directory of the test's own, pulls run as
``cityshield feeds run`` runs them, and what members then read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cityshield.config import Settings
from cityshield.db import session_scope
from cityshield.dedup.canonical import canonical_ioc
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID, network_indicator_id
from cityshield.feeds.models import FeedPublic
from cityshield.feeds.service import get_feed_health, run_now
from tests.utils.server import Hub, TestMember

SHIPPED = Path(__file__).resolve().parents[2] / "feeds"


def shipped(file: str, **changes: Any) -> dict[str, Any]:
    """A shipped definition (``feeds/NAME.yaml``) with some keys changed."""
    definition: dict[str, Any] = yaml.safe_load((SHIPPED / f"{file}.yaml").read_text())
    return {**definition, **changes}


def define(directory: Path, definition: dict[str, Any]) -> str:
    """Write one definition file; returns the feed's name."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{definition['name']}.yaml").write_text(yaml.safe_dump(definition))
    return str(definition["name"])


def text_feed(name: str, url: str, **options: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "text",
        "url": url,
        "interval": "1h",
        "tlp": "clear",
        "confidence": 70,
        "type": "ipv4-addr",
        **options,
    }


def settings_for(hub: Hub, directory: Path, **overrides: Any) -> Settings:
    return hub.settings.model_copy(update={"feeds_dir": directory, **overrides})


def pull(hub: Hub, directory: Path, name: str | None = None) -> list[dict[str, Any]]:
    """``cityshield feeds run [NAME]``, then the network publication the worker would do."""
    settings = settings_for(hub, directory)
    results = run_now(engine=hub.engine, settings=settings, name=name, holder="test")
    hub.publish_network()
    return results


def health(hub: Hub, name: str) -> FeedPublic:
    with session_scope(hub.engine) as session:
        return get_feed_health(session, name)


def read_all(hub: Hub, member: TestMember, collection: str) -> list[dict[str, Any]]:
    """Every latest object of a collection the member may see."""
    objects: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "500"}
    with hub.client(member) as client:
        for _ in range(1000):
            answer = client.get(f"collections/{collection}/objects/", params=params)
            assert answer.status_code == 200, answer.text
            page = answer.json()
            objects += page.get("objects", [])
            if not page.get("more"):
                return objects
            params = {"limit": "500", "next": page["next"]}
    raise AssertionError("paging did not end")


def network_indicator(
    hub: Hub, member: TestMember, key: str, generation: int = 0
) -> dict[str, Any] | None:
    """The member's network indicator of the IOC with this canonical key, if it sees one."""
    object_id = network_indicator_id(key, generation)
    with hub.client(member) as client:
        answer = client.get(f"collections/network/objects/{object_id}/")
    if answer.status_code == 404:
        return None
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["objects"][-1]
    return found


def corroboration(indicator: dict[str, Any]) -> dict[str, Any]:
    extension: dict[str, Any] = indicator["extensions"][CORROBORATION_EXTENSION_ID]
    return extension


def key_of(pattern: str) -> str:
    return canonical_ioc(pattern).key
