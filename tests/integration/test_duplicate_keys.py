"""A POST body with a key twice in one JSON object is refused whole, with the key and
where it is: parsers disagree on which value wins, so a signed object with two
``pattern``s would mean one thing here and another to a member's tool."""

from __future__ import annotations

import orjson

from tests.utils.server import TAXII, Hub
from tests.utils.stix import indicator

HEADERS = {"Content-Type": TAXII}


def _with_duplicate(obj: dict[str, object], key: str, value: str, spelling: str = "") -> bytes:
    """``obj`` serialised with ``key`` written a second time (``spelling`` may escape it)."""
    text = orjson.dumps(obj)[:-1]
    return text + b',"' + (spelling or key).encode() + b'":' + orjson.dumps(value) + b"}"


def test_duplicate_keys_are_refused_with_their_place(hub: Hub) -> None:
    member = hub.member()
    collection = hub.collection()
    objects = member.sign(*[indicator() for _ in range(5)])
    listed = [orjson.dumps(o) for o in objects]
    cases = {
        # the second pattern would win in orjson and json: the signature covers the first
        b"objects[3].pattern": [
            *listed[:3],
            _with_duplicate(objects[3], "pattern", "[ipv4-addr:value = '10.0.0.1']"),
            listed[4],
        ],
        b"objects[1].pattern": [  # the same key spelt with an escape
            listed[0],
            _with_duplicate(objects[1], "pattern", "[x]", spelling="p\\u0061ttern"),
        ],
    }
    with hub.client(member, sign=False) as client:
        for path, parts in cases.items():
            body = b'{"objects":[' + b",".join(parts) + b"]}"
            response = client.post(
                f"collections/{collection}/objects/", content=body, headers=HEADERS
            )
            assert response.status_code == 400, response.text
            error = response.json()
            assert error["title"] == "Invalid envelope"
            assert path.decode() in error["description"]
            assert error["details"] == {"key": "pattern", "path": path.decode()}
        top = b'{"objects":[],"objects":[' + listed[0] + b"]}"
        response = client.post(f"collections/{collection}/objects/", content=top, headers=HEADERS)
        assert response.status_code == 400
        assert response.json()["details"]["path"] == "objects"
        stored = client.get(f"collections/{collection}/objects/").json()
    assert "objects" not in stored  # nothing of a refused envelope is stored


def test_colons_and_escapes_without_duplicates_are_accepted(hub: Hub) -> None:
    """The duplicate check counts colons; colons inside values and escaped ones are fine."""
    member = hub.member()
    collection = hub.collection()
    obj = member.sign(indicator(description='a: b \\": c ::: "x":1 \\u003a'))[0]
    text = orjson.dumps({"objects": [obj]}).replace(b"a: b", b"a\\u003a b")
    with hub.client(member, sign=False) as client:
        response = client.post(f"collections/{collection}/objects/", content=text, headers=HEADERS)
    assert response.status_code == 202, response.text
    assert response.json()["success_count"] == 1
