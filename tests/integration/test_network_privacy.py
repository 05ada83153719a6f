"""The story of the trust review: a hidden report must not show through a member's network
indicator, neither in its timestamps nor in its versions; and the publisher decides what
each member may see exactly as the read paths do."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from cityshield.db import session_scope
from cityshield.dedup.canonical import canonical_ioc
from cityshield.dedup.publish import network_indicator_id
from cityshield.flows.policy import load_policy_files
from cityshield.members.service import caller_for_member
from cityshield.policy import service as policy
from cityshield.policy.engine import AUDIENCE_EXTENSION_ID
from cityshield.stix.vocabulary import TLP2
from cityshield.store.collections import SUBMISSIONS_ALIAS, get_collection_by_alias
from cityshield.store.models import StixObject
from tests.utils.server import Hub, TestMember, submit
from tests.utils.stix import fresh_ipv4, indicator

RED = next(m for m, level in TLP2.items() if level == "red")
AMBER = next(m for m, level in TLP2.items() if level == "amber")


def network_reads(hub: Hub, member: TestMember, ip: str) -> tuple[list[dict], list, str]:
    object_id = network_indicator_id(canonical_ioc(f"[ipv4-addr:value = '{ip}']").key)
    with hub.client(member) as client:
        objects = client.get(
            f"collections/network/objects/{object_id}/", params={"match[version]": "all"}
        )
        versions = client.get(f"collections/network/objects/{object_id}/versions/")
    assert objects.status_code == 200, objects.text
    return (
        objects.json()["objects"],
        versions.json()["versions"],
        objects.headers["X-TAXII-Date-Added-Last"],
    )


def test_a_hidden_report_moves_nothing_in_another_members_view(hub: Hub) -> None:
    a, c = hub.member(), hub.member()
    ip = fresh_ipv4()
    submit(hub, a, indicator(value=ip, object_marking_refs=[RED]))
    time.sleep(0.01)
    submit(hub, c, indicator(value=ip))
    before = network_reads(hub, c, ip)
    [view] = before[0]
    ext = next(iter(view["extensions"].values()))
    assert ext["member_count"] == 1
    # created/first_seen come from C's own report, not A's earlier hidden one.
    assert view["created"] >= ext["first_seen"][:23]
    time.sleep(0.01)
    submit(hub, a, indicator(value=ip, object_marking_refs=[RED]))
    assert network_reads(hub, c, ip) == before


def test_the_publishers_reader_decides_as_the_read_predicate(
    policy_hub: Hub, tmp_path: Path
) -> None:
    """The publisher decides which reports count in each member's view in Python, over
    rows read once for every member (``policy.Reader``); the read paths decide with the
    SQL predicate ``policy.readable``. Under a policy with group shares, an allow and a
    deny, and objects naming their audience, both must pick the same originals for every
    member (an admin included)."""
    hub = policy_hub
    north = [hub.member(groups=["north"]) for _ in range(2)]
    south = [hub.member(groups=["south"]) for _ in range(2)]
    admin = hub.member(role="admin")
    path = tmp_path / "policy.yaml"
    path.write_text(
        "version: 1\ndefault_marking: amber\n"
        f"groups:\n  utility: [{north[0].name}, {south[0].name}]\n"
        "rules:\n"
        "  - name: north shares amber with the utility\n"
        "    from: {groups: [north]}\n    markings: [amber]\n    allow: {groups: [utility]}\n"
        f"  - name: no amber of {north[1].name} for {south[0].name}\n"
        f"    from: {{members: [{north[1].name}]}}\n    markings: [amber]\n"
        f"    deny: {{members: [{south[0].name}]}}\n"
    )
    with session_scope(hub.engine) as session:
        load_policy_files(session, [path])
    members = [*north, *south]
    for author in members:
        others = [m for m in members if m is not author]
        submit(
            hub,
            author,
            indicator(),
            indicator(object_marking_refs=[AMBER]),
            unmarked(),
            indicator(
                object_marking_refs=[AMBER],
                extensions={
                    AUDIENCE_EXTENSION_ID: {
                        "extension_type": "property-extension",
                        "members": [others[0].identity_id],
                    }
                },
            ),
        )
    with session_scope(hub.engine) as session:
        submissions = get_collection_by_alias(session, SUBMISSIONS_ALIAS)
        in_submissions = col(StixObject.collection_id) == submissions.id
        originals = session.execute(
            select(col(StixObject.pk), col(StixObject.submitter_id)).where(in_submissions)
        ).all()
        audiences = policy.audiences_of(session, [pk for pk, _ in originals])
        for member in [*members, admin]:
            caller = caller_for_member(session, member.name)
            by_sql = set(
                session.execute(
                    select(col(StixObject.pk)).where(in_submissions, policy.readable(caller))
                ).scalars()
            )
            reader = policy.Reader.of(caller)
            by_reader = {
                pk
                for pk, submitter in originals
                if reader.may_read(submitter, audiences.get(pk, ()))
            }
            assert by_reader == by_sql, member.name
            assert len(by_sql) < len(originals) or member is admin


def unmarked() -> dict:
    """An indicator without markings: the policy's default marking applies."""
    obj = indicator()
    del obj["object_marking_refs"]
    return obj
