"""The hub's own identity, key and built-in collections, created by ``cityshield init``.

The hub signs what it writes itself (network views, anonymised republications), so it
needs an Ed25519 key; the private key lives in the data directory with mode 0600, never in
the database, so a database dump does not carry it. What the hub publishes in its ``hub``
collection is ``hub/publications.py``'s.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from cityshield.config import Settings
from cityshield.dedup.allowlist import load_allowlist
from cityshield.dedup.hub_context import DEFAULT_LIFETIME_DAYS, HubContext
from cityshield.hub.publications import publish_hub_objects
from cityshield.members.caller import FEED_ROLE
from cityshield.signing.jwk import kid_for
from cityshield.signing.models import SigningKey
from cityshield.signing.registry import jwks_document, register_key
from cityshield.store.collections import (
    HUB_ALIAS,
    NETWORK_ALIAS,
    SUBMISSIONS_ALIAS,
    ensure_collection,
)
from cityshield.store.models import HubSetting
from cityshield.timefmt import format_timestamp, now_micros

HUB_KEY_FILE = "hub_ed25519.pem"


def hub_key_path(home: Path) -> Path:
    return home / HUB_KEY_FILE


def ensure_hub_key(home: Path) -> Ed25519PrivateKey:
    """Load the hub key, creating it (mode 0600) on first use."""
    path = hub_key_path(home)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key.")
        return key
    home.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


_EVERY_ROLE = ["member", "analyst", "admin"]
BUILTIN_COLLECTIONS: tuple[tuple[str, str, str, list[str]], ...] = (
    # (alias, title, description, write roles); every role may read them
    (
        HUB_ALIAS,
        "Hub",
        "Identities of the hub and its members, the TLP marking-definitions and the "
        "extension-definitions members need to read and verify objects.",
        [],
    ),
    (
        NETWORK_ALIAS,
        "Network indicators",
        "One hub-signed indicator per real-world IOC, with who corroborated it.",
        [],
    ),
    (
        SUBMISSIONS_ALIAS,
        "Submissions",
        "Indicators as the network's members submitted them, each one as signed.",
        [*_EVERY_ROLE, FEED_ROLE],  # feeds submit what the hub pulls (docs/feeds.md)
    ),
)


def hub_signer(session: Session, home: Path) -> Ed25519PrivateKey:
    """The hub key, registered (as the hub's, member None) so that what it signs verifies
    against the published JWKS."""
    key = ensure_hub_key(home)
    if session.get(SigningKey, kid_for(key.public_key())) is None:
        register_key(session, public_key=key.public_key(), member_id=None)
    return key


def get_hub_identity(session: Session) -> dict[str, Any] | None:
    row = session.get(HubSetting, "identity")
    return orjson.loads(row.value) if row else None


def get_jwks(session: Session) -> dict[str, Any]:
    """The published JWKS: every registered key, the hub's naming the hub's identity (none
    before ``init`` created it)."""
    identity = get_hub_identity(session)
    return jwks_document(session, hub_identity_id=identity["id"] if identity else None)


def ensure_hub(session: Session, *, home: Path, name: str) -> dict[str, Any]:
    """Create the hub identity, key and built-in collections if missing, and bring the
    ``hub`` collection's publications up to date (``hub/publications.py``); idempotent."""
    key = hub_signer(session, home)
    identity = get_hub_identity(session)
    if identity is None:
        stamp = format_timestamp(now_micros() // 1000 * 1000)
        identity = {
            "type": "identity",
            "spec_version": "2.1",
            "id": f"identity--{uuid.uuid4()}",
            "created": stamp,
            "modified": stamp,
            "name": name,
            "identity_class": "organization",
            "description": "The cityshield threat-sharing hub of this network.",
        }
        session.add(HubSetting(key="identity", value=orjson.dumps(identity).decode()))
    for alias, title, description, write_roles in BUILTIN_COLLECTIONS:
        ensure_collection(
            session,
            alias=alias,
            title=title,
            description=description,
            read_roles=_EVERY_ROLE,
            write_roles=write_roles,
        )
    publish_hub_objects(session, key=key, identity=identity)
    session.flush()
    return identity


def load_hub_context(session: Session, settings: Settings) -> HubContext:
    """What dedup needs to author network indicators: the hub identity and key, the
    known-benign values and the lifetimes (defaults overridden by settings)."""
    identity = get_hub_identity(session)
    if identity is None:
        raise RuntimeError("The hub is not initialised; run `cityshield init`.")
    key = ensure_hub_key(settings.home)
    return HubContext(
        hub_identity_id=identity["id"],
        hub_key=key,
        hub_kid=kid_for(key.public_key()),
        allowlist=load_allowlist(settings.allowlist_files),
        lifetime_days={**DEFAULT_LIFETIME_DAYS, **settings.lifetime_days},
        urgent_per_hour=settings.urgent_per_hour,
    )
