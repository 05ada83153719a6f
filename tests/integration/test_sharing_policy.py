"""Sharing policies end to end: TLP defaults, groups, rules, anonymity, reload, explain."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import orjson

from cityshield.db import session_scope
from cityshield.dedup.canonical import canonical_ioc
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID, network_indicator_id
from cityshield.flows.policy import load_policy_files
from cityshield.hub.anonymity import republished_id
from cityshield.members.service import caller_for_member
from cityshield.policy.active import active_policy
from cityshield.policy.document import PolicyError
from cityshield.policy.engine import AUDIENCE_EXTENSION_ID
from cityshield.policy.explain import explain_object
from tests.utils.server import TAXII, Hub, TestMember, submit
from tests.utils.stix import fresh_ipv4, indicator

HEADERS = {"Content-Type": TAXII}
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
WHITE_V1 = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"


def marked(*markings: str, **extra: object) -> dict:
    obj = indicator(**extra)
    if markings:
        obj["object_marking_refs"] = list(markings)
    else:
        obj.pop("object_marking_refs")
    return obj


def visible_ids(hub: Hub, member: TestMember, ids: list[str]) -> set[str]:
    with hub.client(member) as client:
        query = ",".join(ids)
        body = client.get(f"collections/submissions/objects/?match[id]={query}").json()
    return {o["id"] for o in body.get("objects", [])}


def by_id_status(hub: Hub, member: TestMember, object_id: str) -> int:
    with hub.client(member) as client:
        return client.get(f"collections/submissions/objects/{object_id}/").status_code


def apply_policy(hub: Hub, tmp_path: Path, text: str) -> None:
    path = tmp_path / f"policy-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(text)
    with session_scope(hub.engine) as session:
        load_policy_files(session, [path])


def test_tlp_defaults(policy_hub: Hub, tmp_path: Path) -> None:
    hub = policy_hub
    apply_policy(hub, tmp_path, "version: 1\ndefault_marking: amber\n")
    g = uuid.uuid4().hex[:6]
    author = hub.member(groups=[f"north-{g}"])
    mate = hub.member(groups=[f"north-{g}"])
    stranger = hub.member(groups=[f"south-{g}"])
    admin = hub.member(role="admin")
    objects = {
        "clear": marked(CLEAR),
        "white": marked(WHITE_V1),
        "green": marked(GREEN),
        "amber": marked(AMBER),
        "unmarked": marked(),
        "strict": marked(AMBER_STRICT),
        "red": marked(RED),
        "green+red": marked(GREEN, RED),
    }
    submit(hub, author, *objects.values())
    ids = [o["id"] for o in objects.values()]
    name = {o["id"]: n for n, o in objects.items()}

    def names(member: TestMember) -> set[str]:
        return {name[i] for i in visible_ids(hub, member, ids)}

    assert names(author) == set(objects)
    assert names(admin) == set(objects)
    assert names(mate) == {"clear", "white", "green", "amber", "unmarked"}
    assert names(stranger) == {"clear", "white", "green"}
    assert by_id_status(hub, stranger, objects["amber"]["id"]) == 404
    assert by_id_status(hub, mate, objects["red"]["id"]) == 404


def test_named_recipients_and_rules(policy_hub: Hub, tmp_path: Path) -> None:
    hub = policy_hub
    g = uuid.uuid4().hex[:6]
    author = hub.member(groups=[f"north-{g}"])
    named = hub.member(groups=[f"east-{g}"])
    water = hub.member(groups=[f"water-{g}"])
    mate_denied = hub.member(groups=[f"north-{g}"])
    apply_policy(
        hub,
        tmp_path,
        f"""version: 1
default_marking: amber
rules:
  - name: north shares amber with water
    from: {{groups: [north-{g}]}}
    markings: [amber]
    allow: {{groups: [water-{g}]}}
  - name: never to {mate_denied.name}
    from: {{members: [{author.name}]}}
    deny: {{members: [{mate_denied.name}]}}
""",
    )
    red_named = marked(RED)
    red_named["extensions"] = {
        AUDIENCE_EXTENSION_ID: {
            "extension_type": "property-extension",
            "members": [named.identity_id],
        }
    }
    amber = marked(AMBER)
    green = marked(GREEN)
    submit(hub, author, red_named, amber, green)
    ids = [red_named["id"], amber["id"], green["id"]]
    assert visible_ids(hub, named, ids) == {red_named["id"], green["id"]}
    assert visible_ids(hub, water, ids) == {amber["id"], green["id"]}
    assert visible_ids(hub, mate_denied, ids) == set(), "deny beats GREEN and the group"
    assert visible_ids(hub, author, ids) == set(ids)


def test_reload_recomputes_and_tightening_applies_at_once(policy_hub: Hub, tmp_path: Path) -> None:
    hub = policy_hub
    author, reader = hub.member(), hub.member()
    apply_policy(hub, tmp_path, "version: 1\ndefault_marking: green\n")
    unmarked = marked()
    submit(hub, author, unmarked)
    assert visible_ids(hub, reader, [unmarked["id"]]) == {unmarked["id"]}
    apply_policy(hub, tmp_path, "version: 1\ndefault_marking: amber\n")
    assert visible_ids(hub, reader, [unmarked["id"]]) == set()
    with hub.client(reader) as client:
        manifest = client.get(f"collections/submissions/manifest/?match[id]={unmarked['id']}")
        versions = client.get(f"collections/submissions/objects/{unmarked['id']}/versions/")
    assert manifest.json() == {"more": False}
    assert versions.status_code == 404


def test_viewers_seeing_different_reports_get_their_own_variants(
    policy_hub: Hub, tmp_path: Path
) -> None:
    """Three viewers, each seeing a different part of one network version, read it in
    turn (twice): signed variants are cached, and a cached one must never be served to a
    viewer whose visible reports differ."""
    hub = policy_hub
    apply_policy(hub, tmp_path, "version: 1\ndefault_marking: amber\n")
    g = uuid.uuid4().hex[:6]
    north, west, south = (hub.member(groups=[f"{side}-{g}"]) for side in ("n", "w", "s"))
    pattern = f"[ipv4-addr:value = '{fresh_ipv4()}']"
    green, amber_north, amber_west = (
        marked(GREEN, pattern=pattern),
        marked(AMBER, pattern=pattern),
        marked(AMBER, pattern=pattern),
    )
    submit(hub, south, green)
    submit(hub, north, amber_north)
    submit(hub, west, amber_west)
    network_id = network_indicator_id(canonical_ioc(pattern).key)
    expected = {
        north.name: sorted([green["id"], amber_north["id"]]),
        west.name: sorted([green["id"], amber_west["id"]]),
        south.name: [green["id"]],
    }
    for _ in range(2):
        for viewer in (north, west, south):
            with hub.client(viewer) as client:
                response = client.get(f"collections/network/objects/{network_id}/")
            (obj,) = response.json()["objects"]
            ext = obj["extensions"][CORROBORATION_EXTENSION_ID]
            assert sorted(ext["contributing_refs"]) == expected[viewer.name], viewer.name
            assert ext["member_count"] == len(expected[viewer.name])


def test_network_counts_only_what_the_viewer_may_see(policy_hub: Hub, tmp_path: Path) -> None:
    hub = policy_hub
    apply_policy(hub, tmp_path, "version: 1\ndefault_marking: amber\n")
    g = uuid.uuid4().hex[:6]
    north_a = hub.member(groups=[f"north-{g}"])
    north_b = hub.member(groups=[f"north-{g}"])
    south = hub.member(groups=[f"south-{g}"])
    ip = fresh_ipv4()
    pattern = f"[ipv4-addr:value = '{ip}']"
    green = marked(GREEN, pattern=pattern)
    amber = marked(AMBER, pattern=pattern)
    red = marked(RED, pattern=pattern)
    submit(hub, south, green)
    submit(hub, north_a, amber)
    submit(hub, north_b, red)
    network_id = network_indicator_id(canonical_ioc(pattern).key)

    def seen_by(member: TestMember) -> dict | None:
        with hub.client(member) as client:
            response = client.get(f"collections/network/objects/{network_id}/")
        if response.status_code == 404:
            return None
        (obj,) = response.json()["objects"]
        return obj["extensions"][CORROBORATION_EXTENSION_ID]

    north_view = seen_by(north_b)
    south_view = seen_by(south)
    assert north_view is not None and south_view is not None
    assert north_view["member_count"] == 2, "green + amber; red never aggregates"
    assert sorted(north_view["contributing_refs"]) == sorted([green["id"], amber["id"]])
    assert south_view["member_count"] == 1
    assert south_view["contributing_refs"] == [green["id"]]
    outsider = hub.member(groups=[f"west-{g}"])
    assert seen_by(outsider)["contributing_refs"] == [green["id"]]
    with hub.client(south) as client:
        exported = client.get("../export/blocklist?type=ipv4-addr").text.split()
    assert ip in exported
    only_amber_ip = fresh_ipv4()
    submit(hub, north_a, marked(AMBER, pattern=f"[ipv4-addr:value = '{only_amber_ip}']"))
    hidden_id = network_indicator_id(canonical_ioc(f"[ipv4-addr:value = '{only_amber_ip}']").key)
    with hub.client(south) as client:
        assert client.get(f"collections/network/objects/{hidden_id}/").status_code == 404
        assert only_amber_ip not in client.get("../export/blocklist?type=ipv4-addr").text
        listed = client.get("collections/network/manifest/?limit=10000").json()
    assert hidden_id not in {e["id"] for e in listed.get("objects", [])}
    with hub.client(north_b) as client:
        assert only_amber_ip in client.get("../export/blocklist?type=ipv4-addr").text


def test_anonymous_member_is_republished_under_the_hub(policy_hub: Hub, tmp_path: Path) -> None:
    hub = policy_hub
    shy, other, admin = hub.member(), hub.member(), hub.member(role="admin")
    apply_policy(
        hub,
        tmp_path,
        f"version: 1\ndefault_marking: amber\nmembers:\n  {shy.name}:\n    anonymous: true\n",
    )
    ip = fresh_ipv4()
    original = marked(GREEN, pattern=f"[ipv4-addr:value = '{ip}']", created_by_ref=shy.identity_id)
    submit(hub, shy, original)
    copy_id = republished_id(original["id"])
    assert visible_ids(hub, other, [original["id"], copy_id]) == {copy_id}
    assert visible_ids(hub, shy, [original["id"]]) == {original["id"]}
    assert visible_ids(hub, admin, [original["id"]]) == {original["id"]}
    with hub.client(other) as client:
        (copy,) = client.get(f"collections/submissions/objects/{copy_id}/").json()["objects"]
        network_id = network_indicator_id(canonical_ioc(f"[ipv4-addr:value = '{ip}']").key)
        (net,) = client.get(f"collections/network/objects/{network_id}/").json()["objects"]
    assert copy["created_by_ref"] != shy.identity_id
    assert shy.identity_id not in orjson.dumps(copy).decode()
    ext = net["extensions"][CORROBORATION_EXTENSION_ID]
    assert ext["member_count"] == 1 and ext["contributing_refs"] == [copy_id]
    jwks = httpx.get(f"{hub.base_url}/.well-known/jwks.json").json()
    signer = copy["extensions"]["extension-definition--bb39412e-2a52-4efc-a3b5-43da70fc3dda"]["kid"]
    assert next(k for k in jwks["keys"] if k["kid"] == signer)["identity"] == copy["created_by_ref"]


def test_explain_names_the_deciding_rule(policy_hub: Hub, tmp_path: Path) -> None:
    hub = policy_hub
    g = uuid.uuid4().hex[:6]
    author = hub.member(groups=[f"north-{g}"])
    blocked = hub.member()
    admin = hub.member(role="admin")
    apply_policy(
        hub,
        tmp_path,
        f"""version: 1
rules:
  - name: keep {blocked.name} out
    deny: {{members: [{blocked.name}]}}
""",
    )
    obj = marked(GREEN)
    submit(hub, author, obj)
    with session_scope(hub.engine) as session:
        denied = explain_object(
            session, object_id=obj["id"], viewer=caller_for_member(session, blocked.name)
        )
        allowed = explain_object(
            session, object_id=obj["id"], viewer=caller_for_member(session, author.name)
        )
    assert denied["allowed"] is False and denied["policy_allows"] is False
    assert any(f"keep {blocked.name} out" in r for r in denied["reasons"])
    assert allowed["allowed"] is True
    with hub.client(admin) as client:
        api = client.get(f"../admin/policy/explain?object={obj['id']}&member={blocked.name}")
    assert api.status_code == 200 and api.json()["allowed"] is False
    with hub.client(author) as client:
        refused = client.get(f"../admin/policy/explain?object={obj['id']}&member={blocked.name}")
    assert refused.status_code == 403


def test_bad_or_missing_policy_files_are_refused_whole(policy_hub: Hub, tmp_path: Path) -> None:
    hub = policy_hub
    apply_policy(hub, tmp_path, "version: 1\ndefault_marking: green\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndefault_marking: purple\n")
    missing = tmp_path / "missing.yaml"
    for paths, expected in (([bad], "bad.yaml:2"), ([missing], "missing.yaml:0")):
        with session_scope(hub.engine) as session:
            try:
                load_policy_files(session, paths)
            except PolicyError as exc:
                assert expected in str(exc)
            else:
                raise AssertionError(f"{paths} was accepted")
    with session_scope(hub.engine) as session:
        assert active_policy(session).default_marking == "green", "the old policy stays"
