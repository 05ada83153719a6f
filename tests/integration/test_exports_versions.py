"""Versions of a member's lists over HTTP: ``ETag`` and 304, ``since`` deltas (adds,
removals, what each format can carry), and ``cityshield pull`` against the real server."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import orjson
import pytest
from click.testing import Result
from typer.testing import CliRunner

from cityshield.cli.main import app
from tests.utils.exports import assert_taxii_error, export, group, ip, lines, report
from tests.utils.server import Hub, TestMember
from tests.utils.stix import fresh_ipv4


@pytest.fixture(scope="module")
def hub(policy_hub: Hub) -> Hub:
    """A hub of the module's own: a member's export holds its whole view."""
    return policy_hub


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_an_unchanged_list_is_a_304_and_a_change_a_new_etag(hub: Hub) -> None:
    author, mate = group(hub, 2)
    report(hub, author, ip(fresh_ipv4()))
    first = export(hub, mate, "edl")
    etag = first.headers["etag"]
    again = export(hub, mate, "edl", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["x-cityshield-next-since"] == first.headers["x-cityshield-next-since"]
    listed = export(hub, mate, "edl", headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304, "a list of tags, weak comparison"
    assert export(hub, mate, "edl", headers={"If-None-Match": '"other"'}).status_code == 200
    other_params = export(hub, mate, "edl", headers={"If-None-Match": etag}, max="5")
    assert other_params.status_code == 200, "another list, another ETag"

    added = fresh_ipv4()
    report(hub, author, ip(added))
    changed = export(hub, mate, "edl", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and added in lines(changed)
    assert changed.headers["etag"] != etag
    assert export(hub, mate, "edl").content == changed.content, "the same list, the same bytes"
    assert export(hub, mate, "edl").headers["etag"] == changed.headers["etag"]


def test_since_a_token_is_what_changed_with_removals_where_the_format_can_say_them(
    hub: Hub,
) -> None:
    author, mate = group(hub, 2)
    kept, dropped = fresh_ipv4(), fresh_ipv4()
    withdrawn = ip(dropped)
    report(hub, author, ip(kept), withdrawn)
    tokens = {
        fmt: export(hub, mate, fmt).headers["x-cityshield-next-since"]
        for fmt in ("csv", "edl", "stix")
    }

    nothing = export(hub, mate, "csv", since=tokens["csv"])
    assert rows(nothing.text) == [] and nothing.headers["x-cityshield-removals"] == "0"

    added = fresh_ipv4()
    report(hub, author, ip(added))
    revoked = {**withdrawn, "modified": "2026-11-20T09:30:00.000Z", "revoked": True}
    report(hub, author, revoked)

    delta = rows(export(hub, mate, "csv", since=tokens["csv"]).text)
    assert {(r["action"], r["value"]) for r in delta} == {("add", added), ("remove", dropped)}

    edl = export(hub, mate, "edl", since=tokens["edl"])
    assert lines(edl) == [added], "an EDL cannot say remove..."
    assert edl.headers["x-cityshield-removals"] == "1"
    assert edl.headers["x-cityshield-removals-omitted"] == "1", "...so it says how many it left out"

    bundle = orjson.loads(export(hub, mate, "stix", since=tokens["stix"]).content)
    states = {o["pattern"]: o.get("revoked", False) for o in bundle["objects"]}
    assert states == {
        f"[ipv4-addr:value = '{added}']": False,
        f"[ipv4-addr:value = '{dropped}']": True,
    }

    latest = export(hub, mate, "csv").headers["x-cityshield-next-since"]
    assert rows(export(hub, mate, "csv", since=latest).text) == []
    assert kept in export(hub, mate, "csv").text and dropped not in lines(export(hub, mate, "edl"))


def test_a_token_is_for_the_parameters_it_was_issued_with(hub: Hub) -> None:
    member = hub.member()
    token = export(hub, member, "csv", min_members="2").headers["x-cityshield-next-since"]
    assert export(hub, member, "csv", min_members="2", since=token).status_code == 200
    assert_taxii_error(export(hub, member, "csv", since=token), 400)
    assert_taxii_error(export(hub, member, "edl", min_members="2", since=token), 400)


def pull(hub: Hub, member: TestMember, *args: str | Path) -> Result:
    return CliRunner().invoke(
        app,
        ["pull", "--url", hub.base_url, "--user", member.name, "--token", member.token]
        + [str(a) for a in args],
    )


def test_pull_writes_the_list_and_fetches_it_again_only_when_it_changed(
    hub: Hub, tmp_path: Path
) -> None:
    author, mate = group(hub, 2)
    first = fresh_ipv4()
    report(hub, author, ip(first))
    out, state = tmp_path / "blocklist.txt", tmp_path / "blocklist.state"

    result = pull(hub, mate, "--format", "edl", "--out", out, "--state", state)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["status"] == "updated" and printed["entries"] == 1
    assert out.read_text() == f"{first}\n"
    assert out.stat().st_mode & 0o777 == 0o644
    kept = json.loads(state.read_text())
    assert kept["etag"] and kept["next_since"] == printed["next_since"]

    out.chmod(0o640)
    before = out.stat().st_mtime_ns
    again = pull(hub, mate, "--format", "edl", "--out", out, "--state", state)
    assert json.loads(again.stdout)["status"] == "not-modified"
    assert out.stat().st_mtime_ns == before

    second = fresh_ipv4()
    report(hub, author, ip(second))
    changed = pull(hub, mate, "--format", "edl", "--out", out, "--state", state)
    assert json.loads(changed.stdout)["status"] == "updated"
    assert sorted(out.read_text().split()) == sorted([first, second])
    assert out.stat().st_mode & 0o777 == 0o640, "the file keeps its permissions"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []

    refused = pull(hub, mate, "--format", "edl", "--out", out, "--type", "x-thing")
    assert refused.exit_code == 1 and "HTTP 400" in refused.stderr
    wrong = CliRunner().invoke(
        app,
        ["pull", "--url", hub.base_url, "--user", mate.name, "--token", "wrong", "--out", str(out)],
    )
    assert wrong.exit_code == 1 and "HTTP 401" in wrong.stderr
    assert sorted(out.read_text().split()) == sorted([first, second]), "errors leave the file"


def test_pull_since_a_token_writes_the_delta(hub: Hub, tmp_path: Path) -> None:
    author, mate = group(hub, 2)
    report(hub, author, ip(fresh_ipv4()))
    out, state = tmp_path / "delta.csv", tmp_path / "delta.state"
    whole = pull(hub, mate, "--format", "csv", "--out", out, "--state", state, "--incremental")
    assert whole.exit_code == 0, whole.output
    assert len(rows(out.read_text())) == 1, "no token kept yet: the whole list"
    token = json.loads(whole.stdout)["next_since"]

    added = fresh_ipv4()
    report(hub, author, ip(added))
    delta = pull(hub, mate, "--format", "csv", "--out", out, "--state", state, "--incremental")
    assert [r["value"] for r in rows(out.read_text())] == [added]
    assert json.loads(delta.stdout)["next_since"] != token

    explicit = pull(hub, mate, "--format", "csv", "--out", tmp_path / "x.csv", "--since", token)
    assert explicit.exit_code == 0, explicit.output
    assert [r["value"] for r in rows((tmp_path / "x.csv").read_text())] == [added]
