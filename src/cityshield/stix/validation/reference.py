"""The reference path: the validator's authority, stix2 plus the rules stix2 does not
enforce (see :mod:`cityshield.stix.validation`).

A few structural checks first (type, id, extensions, property names, JSON types, what
stix2 would default), then a ``stix`` pattern on one fail-fast parse
(:func:`cityshield.stix.pattern_check.pattern_reason`), then
``stix2.parse(allow_custom=False, version="2.1")`` on a shallow copy without ``x_``
properties and with the checked pattern marked as a type stix2 does not parse again.
"""

from __future__ import annotations

import stix2
from stix2.exceptions import ParseError
from stix2.properties import BooleanProperty, Property
from stix2.registry import class_for_type
from stix2.v21.sdo import Indicator

from cityshield.stix.pattern_check import UNPARSED_PATTERN_TYPE, pattern_reason
from cityshield.stix.pattern_check import show_value as _show
from cityshield.stix.validation.properties import check_extensions, check_value
from cityshield.stix.validation.syntax import CUSTOM_PROP_RE, ID_RE, PROP_NAME_RE, TYPE_RE, parse_ts

_MAX_REASON = 300
_NEW_OBJECT_EXTENSION_TYPES = frozenset({"new-sdo", "new-sco", "new-sro"})
# Keyword arguments stix2's constructors interpret themselves: as object properties they
# would switch allow_custom back on ("custom_properties") or break the call.
_RESERVED_NAMES = frozenset({"custom_properties", "allow_custom", "interoperability"})


def _trim(reason: str) -> str:
    reason = " ".join(reason.split())
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 3] + "..."


_OBJECTS = "objects"
_OBSERVABLES = "observables"

# Common properties checked on object types defined through an extension-definition
# (new-sdo / new-sro), which stix2 passes through unvalidated.
_SDO_COMMON = {
    name: prop
    for name, prop in Indicator._properties.items()
    if name
    in {
        "created_by_ref",
        "created",
        "modified",
        "revoked",
        "labels",
        "confidence",
        "lang",
        "external_references",
        "object_marking_refs",
        "granular_markings",
    }
}
_SCO_COMMON = {
    "object_marking_refs": _SDO_COMMON["object_marking_refs"],
    "granular_markings": _SDO_COMMON["granular_markings"],
    "defanged": BooleanProperty(),
}


def _reference(obj: object) -> str | None:
    if not isinstance(obj, dict):
        return f"not a JSON object (got {type(obj).__name__})"
    for key in obj:
        if type(key) is not str:
            return f"property names must be strings (got {_show(key)})"

    # -- type and id
    if "type" not in obj:
        return "missing required property 'type'"
    obj_type = obj["type"]
    if type(obj_type) is not str:
        return "'type' must be a string"
    if not TYPE_RE.fullmatch(obj_type) or not 3 <= len(obj_type) <= 250:
        return f"invalid type name {_show(obj_type)}"
    if obj_type == "bundle":
        return "a bundle is a container, not a STIX object; send its objects instead"
    if "id" not in obj:
        return "missing required property 'id'"
    obj_id = obj["id"]
    if type(obj_id) is not str:
        return "'id' must be a string"
    m = ID_RE.fullmatch(obj_id)
    if m is None:
        return f"'id' is not a valid STIX identifier <type>--<uuid>: {_show(obj_id)}"
    if m.group(1) != obj_type:
        return f"'id' prefix {m.group(1)!r} does not match type {obj_type!r}"

    # -- extensions (before stix2, which crashes on non-object entries)
    extensions = obj.get("extensions")
    if "extensions" in obj:
        err = check_extensions(extensions)
        if err:
            return err
        ext_types = {
            e.get("extension_type")
            for k, e in obj["extensions"].items()
            if k.startswith("extension-definition--")
        }
    else:
        ext_types = set()

    cls = class_for_type(obj_type, "2.1", _OBJECTS)
    is_sco = False
    if cls is None:
        cls = class_for_type(obj_type, "2.1", _OBSERVABLES)
        is_sco = cls is not None
    if cls is not None:
        props: dict[str, Property] = cls._properties
        new_kind = None
    else:
        new_kinds = ext_types & _NEW_OBJECT_EXTENSION_TYPES
        if not new_kinds:
            return f"unknown object type {obj_type!r}"
        # An object type defined by an extension-definition (stix2 passes it through).
        new_kind = "new-sco" if new_kinds == {"new-sco"} else "new-sdo"
        is_sco = new_kind == "new-sco"
        props = _SCO_COMMON if is_sco else _SDO_COMMON

    # -- spec_version
    if "spec_version" in obj:
        if obj["spec_version"] != "2.1":
            return f"'spec_version' must be '2.1', not {_show(obj['spec_version'])}"
    elif not is_sco:
        return f"missing required property 'spec_version' (required for {obj_type})"

    # -- property names and values
    open_names = new_kind is not None or "toplevel-property-extension" in ext_types
    for key, value in obj.items():
        if key in _RESERVED_NAMES:
            return f"property name {key!r} is not allowed"
        if key not in props and key not in ("type", "id", "spec_version", "extensions"):
            if CUSTOM_PROP_RE.fullmatch(key):
                pass
            elif open_names and PROP_NAME_RE.fullmatch(key):
                pass  # defined by a toplevel-property-extension / the new type's schema
            else:
                return (
                    f"custom property {_show(key)} is not allowed: custom property names "
                    "must match ^x_[a-z0-9_]{1,247}$"
                )
        if value is None:
            return f"property {key!r} must not be null"
        if type(value) is list and not value:
            return f"property {key!r} must not be an empty list"

    # -- presence of what stix2 would default
    if not is_sco:
        for name in ("created", "modified"):
            if (name in props or new_kind is not None) and name not in obj:
                return f"missing required property {name!r}"
        if obj_type == "indicator" and "valid_from" not in obj:
            return "missing required property 'valid_from'"

    # -- JSON types of the defined properties (nested included)
    for key, value in obj.items():
        prop = props.get(key)
        if prop is not None and key not in ("type", "id", "spec_version", "extensions"):
            err = check_value(prop, value, f"'{key}'", obj)
            if err:
                return err
    if obj_type == "indicator" and obj.get("pattern") == "":
        # an empty pattern detects nothing (and crashes stix2-patterns' bracket check)
        return "'pattern' must not be empty"
    confidence = obj.get("confidence")
    if "confidence" in props and confidence is not None and not 0 <= confidence <= 100:
        return f"'confidence' must be between 0 and 100, not {confidence}"

    # -- modified >= created
    if "created" in obj and "modified" in obj:
        created, modified = parse_ts(obj["created"]), parse_ts(obj["modified"])
        if created is not None and modified is not None and modified < created:
            return "'modified' must not be earlier than 'created'"

    if new_kind is not None:
        return None

    # -- a stix pattern: limits, syntax and values, on one fail-fast parse (pattern_check)
    pattern = obj.get("pattern")
    checked = False
    if obj_type == "indicator" and obj.get("pattern_type") == "stix" and isinstance(pattern, str):
        reason = pattern_reason(pattern, obj.get("pattern_version"))
        if reason is not None:
            return _trim(reason)
        checked = True

    # -- stix2 on a copy without x_ properties, and not parsing the pattern checked above
    stripped = {k: v for k, v in obj.items() if not CUSTOM_PROP_RE.fullmatch(k)}
    if checked:
        stripped["pattern_type"] = UNPARSED_PATTERN_TYPE
    try:
        stix2.parse(stripped, allow_custom=False, version="2.1")
    except ParseError as exc:
        if "unknown object type" in str(exc):
            return f"unknown object type {obj_type!r}"
        return _trim(str(exc) or type(exc).__name__)
    except Exception as exc:
        return _trim(str(exc) or type(exc).__name__)
    return None


def validate_reference(obj: object) -> str | None:
    """The reference path alone: None when valid, else a reason. Never raises."""
    try:
        return _reference(obj)
    except RecursionError:
        return "object is nested too deeply"
    except Exception as exc:  # defensive: nothing escapes the validator
        return _trim(f"invalid object ({type(exc).__name__}: {exc})")
