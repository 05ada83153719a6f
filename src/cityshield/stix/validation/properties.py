"""JSON types of property values, checked against stix2's own property tables.

stix2 coerces (``str(5)``, ``int("5")``, ``"t"`` -> True, a string -> a one-item list) and
treats null and [] as absent; STIX JSON allows none of that, and the hub stores what it
receives, so each value must already be the JSON its property defines -- down into nested
types such as ``kill_chain_phases``, ``external_references`` and extensions.
"""

from __future__ import annotations

from typing import Any

from stix2.properties import (
    BinaryProperty,
    BooleanProperty,
    DictionaryProperty,
    EmbeddedObjectProperty,
    ExtensionsProperty,
    FloatProperty,
    HashesProperty,
    HexProperty,
    IDProperty,
    IntegerProperty,
    ListProperty,
    ObservableProperty,
    Property,
    ReferenceProperty,
    SelectorProperty,
    StringProperty,
    TimestampProperty,
    TypeProperty,
)
from stix2.registry import class_for_type
from stix2.v21.common import MarkingProperty

from cityshield.stix.pattern_check import show_value as _show
from cityshield.stix.validation.syntax import EXT_DEF_ID_RE, ID_RE, parse_ts

EXTENSION_TYPES = frozenset(
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)


def check_extensions(value: object, where: str = "'extensions'") -> str | None:
    if type(value) is not dict:
        return f"{where} must be an object"
    if not value:
        return f"{where} must not be empty"
    for key, ext in value.items():
        if type(key) is not str:
            return f"{where} keys must be strings"
        if key.startswith("extension-definition--"):
            if not EXT_DEF_ID_RE.fullmatch(key):
                return f"extension key {_show(key)} is not a valid extension-definition identifier"
            if type(ext) is not dict:
                return f"extension {key!r} must be an object"
            ext_type = ext.get("extension_type", "property-extension")
            if type(ext_type) is not str or ext_type not in EXTENSION_TYPES:
                return (
                    f"extension {key!r} has invalid extension_type "
                    f"{_show(ext['extension_type'])} (expected one of "
                    f"{', '.join(sorted(EXTENSION_TYPES))})"
                )
        else:
            cls = class_for_type(key, "2.1", "extensions")
            if cls is None:
                return f"unknown extension {_show(key)}"
            if type(ext) is not dict:
                return f"extension {key!r} must be an object"
            err = _check_embedded(cls._properties, ext, f"'extensions.{key}'")
            if err:
                return err
    return None


def _check_embedded(props: dict[str, Property], value: object, where: str) -> str | None:
    """JSON-type check of a nested object against a stix2 property table."""
    if type(value) is not dict:
        return f"{where} must be an object"
    for key, item in value.items():
        prop = props.get(key)
        if prop is not None:
            err = check_value(prop, item, f"{where[:-1]}.{key}'")
            if err:
                return err
    # unknown keys: stix2 rejects them (no custom content in nested types)
    return None


def check_value(
    prop: Property, value: object, where: str, owner: dict[str, Any] | None = None
) -> str:
    """The reason ``value`` is not the JSON a stix2 property expects, or ''.

    stix2 coerces (``str(5)``, ``int("5")``, ``"t"`` -> True, a string -> a one-item
    list) and treats null and [] as absent; STIX JSON allows none of that.
    """
    if value is None:
        return f"{where} must not be null"
    if isinstance(prop, IDProperty | ReferenceProperty):
        if type(value) is not str or not ID_RE.fullmatch(value):
            return f"{where} is not a valid STIX identifier <type>--<uuid>: {_show(value)}"
        return ""
    if isinstance(prop, TimestampProperty):
        if parse_ts(value) is None:
            return (
                f"{where} is not a valid STIX timestamp "
                f"(YYYY-MM-DDTHH:MM:SS[.ffffff]Z): {_show(value)}"
            )
        return ""
    if isinstance(prop, BooleanProperty):
        return "" if type(value) is bool else f"{where} must be a boolean"
    if isinstance(prop, IntegerProperty):
        return "" if type(value) is int else f"{where} must be an integer"
    if isinstance(prop, FloatProperty):
        if type(value) is int or (type(value) is float and value - value == 0):
            return ""
        return f"{where} must be a finite number"
    if isinstance(prop, ListProperty):
        if type(value) is not list:
            return f"{where} must be a list"
        if not value:
            return f"{where} must not be an empty list"
        contained = prop.contained
        for i, item in enumerate(value):
            item_where = f"{where[:-1]}[{i}]'"
            if isinstance(contained, Property):
                err: str | None = check_value(contained, item, item_where)
            else:
                err = _check_embedded(contained._properties, item, item_where)
            if err:
                return err
        return ""
    if isinstance(prop, EmbeddedObjectProperty):
        return _check_embedded(prop.type._properties, value, where) or ""
    if isinstance(prop, ExtensionsProperty):
        return check_extensions(value, where) or ""
    if isinstance(prop, HashesProperty):
        if type(value) is not dict:
            return f"{where} must be an object"
        if any(type(v) is not str for v in value.values()):
            return f"{where} values must be strings"
        return ""
    if isinstance(prop, DictionaryProperty | ObservableProperty):
        return "" if type(value) is dict else f"{where} must be an object"
    if isinstance(prop, MarkingProperty):
        if type(value) is not dict:
            return f"{where} must be an object"
        definition_type = owner.get("definition_type") if owner else None
        if type(definition_type) is str:
            cls = class_for_type(definition_type, "2.1", "markings")
            if cls is not None:
                return _check_embedded(cls._properties, value, where) or ""
        return ""
    if isinstance(
        prop,
        StringProperty | TypeProperty | SelectorProperty | BinaryProperty | HexProperty,
    ):
        return "" if type(value) is str else f"{where} must be a string"
    return ""
