"""sign, verify and submit refuse an input file with a key twice in one object: signing
it would vouch for whichever value the reader's parser keeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cityshield.signing.keys import generate_private_key, private_key_to_pem
from tests.unit.cli.test_city_cli import run
from tests.utils.stix import indicator


@pytest.mark.parametrize(
    "command",
    [
        ["sign", "--key", "KEY"],
        ["verify", "--jwks", "JWKS"],
        [
            "submit",
            "--url",
            "http://127.0.0.1:9/api1/",
            "--collection",
            "c",
            "--user",
            "u",
            "--token",
            "t",
        ],
    ],
)
def test_duplicate_key_in_the_input_exits_1(tmp_path: Path, command: list[str]) -> None:
    key = tmp_path / "city.pem"
    key.write_bytes(private_key_to_pem(generate_private_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    good = json.dumps(indicator())
    text = '{"type": "bundle", "objects": [' + good + "," + good[:-1] + ', "pattern": "[x]"}]}'
    path = tmp_path / "in.json"
    path.write_text(text)
    args = [str(key) if a == "KEY" else str(jwks) if a == "JWKS" else a for a in command]
    result = run(*args, path)
    assert result.exit_code == 1
    assert "objects[1].pattern is given twice" in result.stderr
    assert result.stdout == ""


def test_duplicate_key_in_a_jwks_file_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(indicator()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": [{"kty": "OKP", "x": "a", "x": "b"}]}')
    result = run("verify", "--jwks", jwks, path)
    assert result.exit_code == 1 and "keys[0].x" in result.stderr
