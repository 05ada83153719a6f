"""Each feed's own signing key, held by the hub like its own key (mode 0600 in the data
directory, never in the database).

A feed's objects are signed with a key registered to the feed's principal, not with the
hub key: the published JWKS then says that key signs for the feed's identity, so anyone
verifying a feed's indicator with ``cityshield verify`` finds its ``created_by_ref`` and
its signer agree, and the ingest path checks it exactly as it checks a member's. A lost
key file is replaced by a new registered key; the old one stays valid for what it signed.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from cityshield.signing.jwk import kid_for
from cityshield.signing.keys import generate_private_key, load_private_key, private_key_to_pem
from cityshield.signing.registry import get_key, register_key

KEY_DIRECTORY = "feed-keys"


def feed_key_path(home: Path, feed_name: str) -> Path:
    return home / KEY_DIRECTORY / f"{feed_name}.pem"


def ensure_feed_key(
    session: Session, *, home: Path, feed_name: str, member_id: int
) -> Ed25519PrivateKey:
    """The feed's key, created (mode 0600) and registered to its principal if needed."""
    path = feed_key_path(home, feed_name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use that one
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(private_key_to_pem(generate_private_key()))
    key = load_private_key(path.read_bytes())
    if get_key(session, kid_for(key.public_key())) is None:
        register_key(session, public_key=key.public_key(), member_id=member_id)
    return key
