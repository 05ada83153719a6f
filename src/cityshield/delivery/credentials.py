"""Push-target passwords and tokens, encrypted at rest.

Stored with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key that is
not in the database: ``CITYSHIELD_DELIVERY_SECRET_KEY``, or else ``delivery.key`` in the
data directory (mode 0600, made on first use), as the hub's signing key is. A database
dump or backup then carries no member's credentials. Nothing outside this module and the
sender ever sees them in clear: listings show ``***`` and errors name only the URL.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import orjson
from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

from cityshield.delivery.errors import CredentialsUnreadable
from cityshield.errors import CityShieldError

KEY_FILE = "delivery.key"
MASK = "***"


@dataclass(frozen=True)
class Credentials:
    """How to authenticate to a target: ``none``, ``basic`` (user, password) or ``token``
    (sent as ``Authorization: Bearer``). ``repr`` never shows the secret."""

    kind: str = "none"
    user: str | None = None
    secret: str | None = None

    def __repr__(self) -> str:
        shown = MASK if self.secret else None
        return f"Credentials(kind={self.kind!r}, user={self.user!r}, secret={shown!r})"

    __str__ = __repr__


def _key_from_file(home: Path) -> bytes:
    """The key in ``home/delivery.key``, created atomically on first use: written to a
    temporary file and hard-linked into place, so two processes starting together agree
    on one key and neither ever reads a half-written file."""
    path = home / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    home.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=home, prefix=".delivery-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key())
        with contextlib.suppress(FileExistsError):  # another process was first: use its key
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_bytes().strip()


def cipher(home: Path, key: SecretStr | None = None) -> Fernet:
    """The Fernet instance for this hub's push-target secrets."""
    raw = key.get_secret_value().encode() if key is not None else _key_from_file(home)
    try:
        return Fernet(raw)
    except ValueError as exc:
        raise CityShieldError(
            "the delivery secret key must be 32 url-safe base64-encoded bytes "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
        ) from exc


def seal(fernet: Fernet, secret: str) -> str:
    return fernet.encrypt(orjson.dumps({"secret": secret})).decode()


def unseal(fernet: Fernet, token: str) -> str:
    try:
        value = orjson.loads(fernet.decrypt(token.encode()))
    except (InvalidToken, orjson.JSONDecodeError) as exc:
        raise CredentialsUnreadable(
            "the stored password or token does not decrypt with this hub's delivery key; "
            "register the push target again"
        ) from exc
    return str(value["secret"])
