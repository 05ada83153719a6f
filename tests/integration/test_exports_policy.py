"""Per-member thresholds for automated blocking, set in the policy file (``export:``), and
what a policy change does to the lists and their deltas, over HTTP."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.utils.exports import export, get, ip, lines, policy, report
from tests.utils.server import Hub
from tests.utils.stix import fresh_ipv4


@pytest.fixture(scope="module")
def hub(policy_hub: Hub) -> Hub:
    """A hub of the module's own: a member's export holds its whole view."""
    return policy_hub


def test_one_citys_report_reaches_no_firewall_under_a_two_member_threshold(
    hub: Hub, tmp_path: Path
) -> None:
    region, careful = hub.unique("region"), hub.unique("careful")
    a = hub.member(groups=[region])
    b = hub.member(groups=[region])
    lax = hub.member(groups=[region])
    cautious = hub.member(groups=[region, careful])
    single, corroborated = fresh_ipv4(), fresh_ipv4()
    report(hub, a, ip(single, confidence=70), ip(corroborated, confidence=80))
    report(hub, b, ip(corroborated, confidence=80))
    everything = {single, corroborated}
    assert set(lines(export(hub, lax, "edl"))) == everything, "no thresholds: as before"

    text = f"""
version: 1
export:
  min_members: 2
  groups:
    {careful}: {{min_confidence: 99}}
members:
  {lax.name}:
    export: {{min_members: 1, min_confidence: 60}}
"""
    with policy(hub, tmp_path, text):
        assert lines(export(hub, b, "edl")) == [corroborated], "network-wide: 2 members"
        assert set(lines(export(hub, lax, "edl"))) == everything, "its own: 1 member, 60"
        assert lines(export(hub, cautious, "edl")) == [], "its group: confidence 99 (96 here)"
        assert set(lines(export(hub, b, "edl", min_members="1"))) == everything, "asked"
        old = get(hub, b, "/export/blocklist", {"type": "ipv4-addr"})
        assert lines(old) == [corroborated], "the old blocklist honours it too"
        for fmt in ("csv", "zeek", "suricata", "stix"):
            body = export(hub, b, fmt).text
            assert corroborated in body and single not in body, fmt
    assert set(lines(export(hub, b, "edl"))) == everything, "policy removed: as before"


def test_a_tighter_policy_shows_in_the_next_delta_as_removals(hub: Hub, tmp_path: Path) -> None:
    region = hub.unique("region")
    author = hub.member(groups=[region])
    reader = hub.member(groups=[region])
    theirs = fresh_ipv4()
    report(hub, author, ip(theirs))
    token = export(hub, reader, "csv").headers["x-cityshield-next-since"]

    deny = f"""
version: 1
rules:
  - name: nothing from {author.name} to {reader.name}
    from: {{members: [{author.name}]}}
    deny: {{members: [{reader.name}]}}
"""
    with policy(hub, tmp_path, deny):
        delta = list(csv.DictReader(io.StringIO(export(hub, reader, "csv", since=token).text)))
        assert [(r["action"], r["value"]) for r in delta] == [("remove", theirs)], (
            "the view was hidden: the delta says so"
        )
        assert theirs not in export(hub, reader, "csv").text

    threshold = "version: 1\nexport: {min_members: 2}\n"
    token = export(hub, reader, "csv").headers["x-cityshield-next-since"]
    with policy(hub, tmp_path, threshold):
        delta = list(csv.DictReader(io.StringIO(export(hub, reader, "csv", since=token).text)))
        assert [(r["action"], r["value"]) for r in delta] == [("remove", theirs)], (
            "a token from before a threshold changed restarts the delta"
        )
