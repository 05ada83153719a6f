"""A city's objects made ready to send: read strictly from a STIX document, attributed to
the city's identity, and signed.

Shared by ``cityshield sign`` and ``submit`` (:func:`cityshield.client.taxii.submit_objects`
sends what this prepares), so what is signed is exactly what goes out.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cityshield import strictjson
from cityshield.errors import BadRequest, DuplicateKey
from cityshield.signing.errors import SignatureError
from cityshield.signing.scheme import sign_object
from cityshield.stix.vocabulary import is_predefined_marking

__all__ = ["objects_of", "sign_objects", "with_creator"]

JSONObject = dict[str, Any]


def objects_of(text: str, *, source: str) -> list[JSONObject]:
    """The objects of a bundle, an envelope, a list, or a single object in ``text``;
    :class:`BadRequest` naming ``source`` otherwise.

    A key given twice in one JSON object is refused: signing such a file would vouch for
    whichever value the reader's parser happens to keep.
    """
    try:
        data = strictjson.loads_reference(text)
    except DuplicateKey as exc:
        raise BadRequest(f"{source}: {exc.description}") from exc
    except ValueError as exc:
        raise BadRequest(f"{source} is not valid JSON: {exc}") from exc
    objects: Any
    if isinstance(data, list):
        objects = data
    elif isinstance(data, dict) and (data.get("type") == "bundle" or "type" not in data):
        objects = data.get("objects", [] if data.get("type") == "bundle" else None)
    elif isinstance(data, dict):
        objects = [data]
    else:
        objects = None
    if not isinstance(objects, list):
        raise BadRequest(
            f"{source} holds no STIX objects: expected a bundle, an envelope, a list or an object"
        )
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            raise BadRequest(
                f"{source}: item {i} is not a STIX object (a JSON object with a 'type')"
            )
    return objects


def with_creator(obj: JSONObject, identity: str) -> JSONObject:
    """Add created_by_ref right after ``id`` (where STIX producers put it). Only objects
    with ``created`` (SDOs, SROs, markings) have the property; SCOs must not get it."""
    if "created_by_ref" in obj or "created" not in obj:
        return obj
    out: JSONObject = {}
    for name, value in obj.items():
        out[name] = value
        if name == "id":
            out["created_by_ref"] = identity
    out.setdefault("created_by_ref", identity)
    return out


def sign_objects(
    objects: list[JSONObject], key: Ed25519PrivateKey, identity: str | None
) -> list[JSONObject]:
    """Sign every object except predefined TLP markings (published by standards bodies),
    attributing it to ``identity`` first; :class:`SignatureError` naming the object that
    cannot be signed."""
    out = []
    for obj in objects:
        if is_predefined_marking(obj):
            out.append(obj)
            continue
        if identity is not None:
            obj = with_creator(obj, identity)
        try:
            out.append(sign_object(obj, key))
        except SignatureError as exc:
            raise SignatureError(
                f"cannot sign {obj.get('id', obj['type'])}: {exc.description}", **exc.details
            ) from exc
    return out
