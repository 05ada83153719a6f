"""A demo network: cities in two regions, an analyst, an admin and sample indicators.

Idempotent: the first run creates members and writes their credentials to
``<home>/demo-credentials.json`` (mode 0600); later runs reuse them.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from cityshield.dedup.hub_context import HubContext
from cityshield.flows.ingest import add_objects
from cityshield.flows.members import add_member
from cityshield.members import service as members
from cityshield.signing.jwk import kid_for
from cityshield.signing.keys import (
    generate_private_key,
    load_private_key,
    private_key_to_pem,
    public_key_to_pem,
)
from cityshield.signing.registry import add_member_key, get_key
from cityshield.signing.scheme import sign_object
from cityshield.stix.vocabulary import TLP2_IDS
from cityshield.store.collections import get_collection_by_alias
from cityshield.timefmt import format_timestamp, now_micros

DEMO_MEMBERS: list[tuple[str, str, list[str]]] = [
    ("northport", "member", ["north"]),
    ("riverton", "member", ["north"]),
    ("lakeside", "member", ["south"]),
    ("southbay", "member", ["south"]),
    ("soc-analyst", "analyst", []),
    ("hub-admin", "admin", []),
]

TLP_GREEN, TLP_AMBER, TLP_RED = TLP2_IDS["green"], TLP2_IDS["amber"], TLP2_IDS["red"]

# (city, pattern, name[, marking]): overlapping IOCs on purpose, as in a real incident; GREEN
# unless a marking is given, so the example policy has something to decide.
DEMO_IOCS: list[tuple[str, ...]] = [
    ("northport", "[ipv4-addr:value = '198.51.100.7']", "C2 server seen in water-utility incident"),
    ("riverton", "[ipv4-addr:value = '198.51.100.7/32']", "Beaconing from SCADA gateway"),
    ("lakeside", "[ipv4-addr:value = '203.0.113.45']", "Brute force against VPN portal"),
    (
        "southbay",
        "[domain-name:value = 'invoice-portal.example']",
        "Phishing domain, fake tax bill",
    ),
    ("northport", "[domain-name:value = 'INVOICE-portal.example.']", "Phishing landing page"),
    ("riverton", "[url:value = 'http://evil.example/payload.bin']", "Loader download URL"),
    (
        "lakeside",
        "[file:hashes.'SHA-256' = "
        "'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90']",
        "Ransomware dropper",
    ),
    ("southbay", "[email-addr:value = 'payroll-update@mail.example']", "Spear-phishing sender"),
    ("riverton", "[ipv4-addr:value = '192.0.2.66']", "Scanner hitting pump controllers", TLP_AMBER),
    (
        "northport",
        "[domain-name:value = 'water-ops-update.example']",
        "Lure aimed at operators",
        TLP_AMBER,
    ),
    ("lakeside", "[ipv4-addr:value = '192.0.2.99']", "Insider exfiltration host", TLP_RED),
]


def credentials_path(home: Path) -> Path:
    return home / "demo-credentials.json"


def seed_demo(session: Session, *, home: Path, network: HubContext) -> dict[str, dict[str, str]]:
    """Create the demo members and indicators unless present; return name -> credentials."""
    path = credentials_path(home)
    if path.exists():
        return dict(json.loads(path.read_text()))
    creds: dict[str, dict[str, str]] = {}
    signing_keys: dict[str, Ed25519PrivateKey] = {}
    for name, role, groups in DEMO_MEMBERS:
        if members.get_member(session, name) is not None:
            new = members.rotate_token(session, name=name)
        else:
            new = add_member(session, home=home, name=name, role=role, groups=groups)
        creds[name] = {"identity_id": new.identity_id, "token": new.token, "role": role}
        if role == "member":
            key_path = home / "demo-keys" / f"{name}.pem"
            signing_keys[name] = _demo_key(session, name=name, path=key_path)
            creds[name]["signing_key"] = str(key_path)
    submissions = get_collection_by_alias(session, "submissions")
    for city in sorted({entry[0] for entry in DEMO_IOCS}):
        caller = members.caller_for_token(session, token=creds[city]["token"])
        assert caller is not None
        objects = [
            sign_object(_indicator(caller.identity_id, *entry[1:]), signing_keys[city])
            for entry in DEMO_IOCS
            if entry[0] == city
        ]
        add_objects(
            session, caller=caller, collection=submissions, objects=objects, network=network
        )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(creds, handle, indent=2)
    return creds


def _demo_key(session: Session, *, name: str, path: Path) -> Ed25519PrivateKey:
    """A city's signing key, kept in the demo data dir (0600) so people can try `submit`."""
    if path.exists():
        key = load_private_key(path.read_bytes())
    else:
        key = generate_private_key()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(private_key_to_pem(key))
    if get_key(session, kid_for(key.public_key())) is None:
        add_member_key(session, member_name=name, key_data=public_key_to_pem(key.public_key()))
    return key


def _indicator(
    identity_id: str, pattern: str, name: str, marking: str = TLP_GREEN
) -> dict[str, Any]:
    stamp = format_timestamp(now_micros() // 1000 * 1000)
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created_by_ref": identity_id,
        "created": stamp,
        "modified": stamp,
        "name": name,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
        "confidence": 70,
        "object_marking_refs": [marking],
    }
