"""The story of the trust review: a hidden report must not show through a member's network
indicator, neither in its timestamps nor in its versions."""

from __future__ import annotations

import time

from cityshield.dedup.canonical import canonical_ioc
from cityshield.dedup.publish import network_indicator_id
from cityshield.stix.vocabulary import TLP2
from tests.utils.server import Hub, TestMember, submit
from tests.utils.stix import fresh_ipv4, indicator

RED = next(m for m, level in TLP2.items() if level == "red")


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
