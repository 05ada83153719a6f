"""Push-target secrets: encrypted with a key kept outside the database, never shown."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from cityshield.delivery.credentials import KEY_FILE, Credentials, cipher, seal, unseal
from cityshield.delivery.errors import CredentialsUnreadable
from cityshield.errors import CityShieldError


def test_a_sealed_secret_opens_only_with_the_same_key(tmp_path: Path) -> None:
    fernet = cipher(tmp_path)
    token = seal(fernet, "hunter2")
    assert "hunter2" not in token
    assert unseal(cipher(tmp_path), token) == "hunter2", "the key file is reused"
    with pytest.raises(CredentialsUnreadable):
        unseal(cipher(tmp_path / "other"), token)


def test_the_key_file_is_private(tmp_path: Path) -> None:
    cipher(tmp_path / "home")
    mode = stat.S_IMODE((tmp_path / "home" / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert not [p for p in (tmp_path / "home").iterdir() if p.name != KEY_FILE], "temp left"


def test_a_configured_key_wins_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    token = seal(cipher(tmp_path, SecretStr(key)), "pw")
    assert unseal(Fernet(key.encode()), token) == "pw"
    assert not (tmp_path / KEY_FILE).exists()
    with pytest.raises(CityShieldError, match="32 url-safe"):
        cipher(tmp_path, SecretStr("not a key"))


def test_credentials_never_print_their_secret() -> None:
    creds = Credentials("basic", "soc", "hunter2")
    assert "hunter2" not in repr(creds) and "hunter2" not in str(creds) and "***" in repr(creds)
