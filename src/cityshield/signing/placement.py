"""Where an object's signature lives, and what is left of the object without it.

Every STIX 2.1 object may carry ``extensions`` except one type: ``extension-definition``
(STIX 2.1 §7.3 lists its properties, ``extensions`` is not among them, and stix2's
``ExtensionDefinition`` refuses it). So there the same ``alg``/``kid``/``sig`` go in the
top-level custom property :data:`SIGNATURE_PROPERTY` instead (§11.1; stix2 keeps it with
``allow_custom=True``). Each type has exactly one place: an object never has two spellings
of its signature, and a verifier never has to choose between two entries.
"""

from __future__ import annotations

from typing import Any

JSONObject = dict[str, Any]

SIGNATURE_EXTENSION_ID = "extension-definition--bb39412e-2a52-4efc-a3b5-43da70fc3dda"
SIGNATURE_PROPERTY = "x_cityshield_signature"
SIGNATURE_ALG = "Ed25519"
EXTENSION_TYPE = "property-extension"

EXTENSION_ENTRY_KEYS = frozenset({"extension_type", "alg", "kid", "sig"})
PROPERTY_ENTRY_KEYS = frozenset({"alg", "kid", "sig"})
"""The property is not an extension, so it has no ``extension_type``."""

TYPES_WITHOUT_EXTENSIONS = frozenset({"extension-definition"})


def signed_in_property(obj: JSONObject) -> bool:
    """Whether ``obj``'s signature belongs in :data:`SIGNATURE_PROPERTY` (its type has no
    ``extensions``) rather than in the property-extension entry."""
    return obj.get("type") in TYPES_WITHOUT_EXTENSIONS


def without_signature(obj: JSONObject) -> JSONObject:
    """The object minus its signature: the property-extension entry (and ``extensions`` if
    that leaves it empty), or, on an extension-definition, :data:`SIGNATURE_PROPERTY`.

    Other extensions and custom properties stay: they are part of what the author vouches
    for.
    """
    if signed_in_property(obj):
        return {k: v for k, v in obj.items() if k != SIGNATURE_PROPERTY}
    extensions = obj.get("extensions")
    if not isinstance(extensions, dict):
        return obj
    if extensions and SIGNATURE_EXTENSION_ID not in extensions:
        return obj  # nothing to leave out (an object about to be signed): no copies
    rest = {k: v for k, v in extensions.items() if k != SIGNATURE_EXTENSION_ID}
    view = {k: v for k, v in obj.items() if k != "extensions"}
    if rest:
        view["extensions"] = rest
    return view


def with_signature(obj: JSONObject, *, kid: str, sig: str) -> JSONObject:
    """A copy of ``obj`` carrying the signature in its type's place, replacing an old one.

    Key order is kept and the signature goes last, so the output diffs cleanly against
    what the author wrote. The copy is shallow.
    """
    if signed_in_property(obj):
        signed = {k: v for k, v in obj.items() if k != SIGNATURE_PROPERTY}
        signed[SIGNATURE_PROPERTY] = {"alg": SIGNATURE_ALG, "kid": kid, "sig": sig}
        return signed
    extensions = obj.get("extensions", {})
    new_extensions = {k: v for k, v in extensions.items() if k != SIGNATURE_EXTENSION_ID}
    new_extensions[SIGNATURE_EXTENSION_ID] = {
        "extension_type": EXTENSION_TYPE,
        "alg": SIGNATURE_ALG,
        "kid": kid,
        "sig": sig,
    }
    signed = dict(obj)
    signed["extensions"] = new_extensions
    return signed
