"""Feed definitions: the shipped files load, and every mistake is named by file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.errors import FeedDefinitionError, FeedPullError
from cityshield.feeds.fetch import credentials
from cityshield.feeds.load import load_definitions

SHIPPED = Path(__file__).resolve().parents[3] / "feeds"
BASE = (
    "name: f\nkind: text\nurl: https://lists.example/f.txt\n"
    "interval: 1h\ntlp: green\nconfidence: 70\n"
)


def definitions(tmp_path: Path, **files: str):  # type: ignore[no-untyped-def]
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return load_definitions(tmp_path)


def test_the_shipped_definitions_load_and_are_all_disabled() -> None:
    found = load_definitions(SHIPPED)
    assert found.problems == []
    assert sorted(found.feeds) == ["feodotracker", "spamhaus-drop", "threatfox", "urlhaus"]
    assert not any(d.enabled for d in found.feeds.values())
    assert all(d.kind == "csv" and d.attribution is not None for d in found.feeds.values())


def test_durations_levels_and_defaults(tmp_path: Path) -> None:
    found = definitions(tmp_path, f=BASE.replace("tlp: green", "tlp: WHITE") + "type: url\n")
    feed = found.feeds["f"]
    assert (feed.interval, feed.tlp, feed.timeout, feed.enabled) == (3600, "clear", 60, True)
    assert feed.comment == "#" and feed.principal == "feed.f"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("", "text feeds need type"),
        ("type: ipv5-addr\n", "type: Value error, unknown observable type 'ipv5-addr'"),
        ("type: url\ncolumns: {url: 1}\n", "columns: not a key of text feeds"),
        ("type: url\ncollection: x\n", "collection: not a key of text feeds"),
        ("type: url\npassword: hunter2\n", "password: credentials are never read"),
        ("type: url\nauth: {type: basic, user_env: U}\n", "basic auth needs password_env"),
        ("type: url\nauth: {type: bearer, token: abc}\n", "auth.token: Extra inputs"),
        ("type: url\ncolour: red\n", "colour: Extra inputs are not permitted"),
        ("type: url\ntype: url\n", "key 'type' given twice"),
    ],
)
def test_mistakes_are_named_by_file_and_key(tmp_path: Path, extra: str, expected: str) -> None:
    found = definitions(tmp_path, f=BASE + extra)
    assert "f" not in found.feeds
    assert any(expected in p for p in found.problems), found.problems
    assert all(p.startswith(str(tmp_path / "f.yaml")) for p in found.problems)


def test_bad_values_are_named(tmp_path: Path) -> None:
    text = BASE.replace("interval: 1h", "interval: soon").replace(
        "confidence: 70", "confidence: 170"
    )
    found = definitions(tmp_path, f=text + "type: url\n")
    assert any(": interval: " in p and "not a duration" in p for p in found.problems)
    assert any(": confidence: " in p for p in found.problems)


def test_one_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    good = BASE.replace("name: f", "name: good") + "type: url\n"
    found = definitions(tmp_path, good=good, bad="name: [", dup=good)
    assert list(found.feeds) == ["good"]
    assert any("bad.yaml: not valid YAML" in p for p in found.problems)
    assert any("good.yaml" in p and "'good' is defined by" in p for p in found.problems)
    with pytest.raises(FeedDefinitionError, match="not valid YAML"):
        found.get_or_raise("bad")


def test_csv_and_taxii_keys() -> None:
    common = {"url": "https://x.example/", "interval": 60, "tlp": "amber", "confidence": 1}
    with pytest.raises(ValueError, match="csv feeds need columns"):
        FeedDefinition.model_validate({"name": "c", "kind": "csv", **common})
    with pytest.raises(ValueError, match="taxii21 feeds need collection"):
        FeedDefinition.model_validate({"name": "t", "kind": "taxii21", **common})
    with pytest.raises(ValueError, match="member: not a key of cityshield feeds"):
        FeedDefinition.model_validate({"name": "h", "kind": "cityshield", "member": "a", **common})
    with pytest.raises(ValueError, match="comment: not a key of taxii21 feeds"):
        FeedDefinition.model_validate(
            {"name": "t", "kind": "taxii21", "collection": "c", "comment": "#", **common}
        )
    feed = FeedDefinition.model_validate(
        {"name": "t", "kind": "csv", "columns": {"file:hashes.sha256": 0}, **common}
    )
    assert feed.strictest("green") == "amber" and feed.strictest("red") == "red"
    assert feed.strictest(None) == "amber"


def test_credentials_come_from_the_environment_only() -> None:
    feed = FeedDefinition.model_validate(
        {
            "name": "k",
            "kind": "text",
            "type": "url",
            "url": "https://x.example/",
            "interval": 60,
            "tlp": "clear",
            "confidence": 1,
            "auth": {"type": "header", "header": "Auth-Key", "token_env": "K_KEY"},
        }
    )
    assert credentials(feed.auth, {"K_KEY": "s3cret"}).headers == {"Auth-Key": "s3cret"}
    assert "s3cret" not in repr(credentials(feed.auth, {"K_KEY": "s3cret"}))
    with pytest.raises(FeedPullError, match="K_KEY is not set"):
        credentials(feed.auth, {})
