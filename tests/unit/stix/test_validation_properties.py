"""Property tests for the STIX 2.1 ingest validator.

The key property is soundness of the fast path: whenever ``validate_fast`` says True,
the reference path (stix2 + stix2-patterns + our extra rules) accepts the object too,
and so do stix2 and stix2-patterns on their own.
The strategies build indicators of the fast-path shape with random values, then
mutate them in the ways feeds get things wrong.
"""

from __future__ import annotations

import copy
import string
import unicodedata
from datetime import datetime, timedelta

import stix2
from hypothesis import HealthCheck, given, provisional, settings
from hypothesis import strategies as st
from stix2patterns.validator import run_validator

from cityshield.stix.validation import validate_fast, validate_object, validate_reference
from cityshield.stix.validation.fast import _FAST_KEYS
from cityshield.stix.validation.syntax import CUSTOM_PROP_RE

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

EXT_TYPES = ["property-extension", "toplevel-property-extension"]
STRING_PATHS = [
    "ipv4-addr:value",
    "ipv6-addr:value",
    "domain-name:value",
    "url:value",
    "email-addr:value",
    "mac-addr:value",
    "file:name",
    "mutex:name",
    "process:command_line",
    "windows-registry-key:key",
]
HASH_PATHS = {
    "file:hashes.MD5": 32,
    "file:hashes.'MD5'": 32,
    "file:hashes.'SHA-1'": 40,
    "file:hashes.'SHA-256'": 64,
    "file:hashes.'SHA-512'": 128,
}
OTHER_PATHS = [
    "ipv4-addr:values",
    "file:hashes.'SHA-384'",
    "file:hashes.SHA256",
    "file:hashes.'SSDEEP'",
    "artifact:hashes.'SHA-256'",
    "x-foo:value",
    "process:pid",
    "file:size",
    "network-traffic:src_port",
    "email-message:from_ref.value",
    "file:parent_directory_ref.path",
]

# ------------------------------------------------------------------ strategies

# Text across the whole code space: quotes, backslashes, controls, surrogates, astral.
any_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("'\\\"\n\r\t\x00 []=:.-_aZ09é€\u2028\ufeff"),
        st.characters(codec=None, exclude_categories=()),
    ),
    max_size=30,
)
uuid_str = st.builds(
    lambda u, upper: str(u).upper() if upper else str(u),
    st.uuids(version=4),
    st.booleans(),
)


def stix_id(type_: str) -> st.SearchStrategy[str]:
    return uuid_str.map(lambda u: f"{type_}--{u}")


def stix_timestamp(value: datetime, digits: int = 6) -> str:
    text = (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
        f"T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    )
    if digits:
        text += "." + f"{value.microsecond:06d}"[:digits]
    return text + "Z"


@st.composite
def stix_datetimes(draw: st.DrawFn) -> tuple[datetime, str]:
    """A datetime and its STIX timestamp, with 0..6 fractional digits."""
    value = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30)))
    digits = draw(st.integers(0, 6))
    scale = 10 ** (6 - digits)
    value = value.replace(microsecond=(value.microsecond // scale) * scale)
    return value, stix_timestamp(value, digits)


def escape(literal: str) -> str:
    return literal.replace("\\", "\\\\").replace("'", "\\'")


# Values valid for their observable (cityshield.stix.observables), some of them defanged.
clean_text = any_text.map(
    lambda s: "".join(c for c in s if unicodedata.category(c) not in ("Cc", "Cs"))
)
domains = provisional.domains(max_length=200)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
VALID_VALUES = {
    "ipv4-addr:value": ipv4
    | st.builds("{}/{}".format, ipv4, st.integers(0, 32))
    | ipv4.map(lambda a: a.replace(".", "[.]")),
    "ipv6-addr:value": ipv6 | st.builds("{}/{}".format, ipv6, st.integers(0, 128)),
    "domain-name:value": domains | domains.map(lambda d: d.replace(".", "[.]", 1)),
    "url:value": st.builds(
        "{}://{}{}/{}".format,
        st.sampled_from(["http", "https", "hxxp", "ftp"]),
        domains | ipv4 | ipv6.map("[{}]".format),
        st.sampled_from(["", ":8080", ":0", ":443"]),
        st.text(alphabet=string.ascii_letters + string.digits + "/?=&%-._~'", max_size=20),
    ),
    "email-addr:value": st.emails(domains=domains),
}


@st.composite
def fast_patterns(draw: st.DrawFn) -> str:
    def pad() -> str:
        return " " * draw(st.integers(0, 2))

    if draw(st.booleans()):
        path = draw(st.sampled_from(STRING_PATHS))
        literal = escape(draw(VALID_VALUES.get(path, clean_text)))
    else:
        path, length = draw(st.sampled_from(sorted(HASH_PATHS.items())))
        literal = draw(st.text(alphabet="0123456789abcdefABCDEF", min_size=length, max_size=length))
    return f"[{pad()}{path}{pad()}={pad()}'{literal}'{pad()}]"


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=8,
)
custom_names = st.from_regex(r"x_[a-z0-9_]{1,20}", fullmatch=True)
custom_values = json_values.filter(lambda v: v is not None and v != [])
str_lists = st.lists(any_text, min_size=1, max_size=3)
kill_chain_phases = st.lists(
    st.fixed_dictionaries({"kill_chain_name": any_text, "phase_name": any_text}),
    min_size=1,
    max_size=2,
)
external_references = st.lists(
    st.fixed_dictionaries(
        {"source_name": any_text, "url": any_text},
        optional={"description": any_text, "external_id": any_text},
    ),
    min_size=1,
    max_size=2,
)
extensions = st.dictionaries(
    stix_id("extension-definition"),
    st.fixed_dictionaries(
        {},
        optional={
            "extension_type": st.sampled_from(EXT_TYPES),
            "rank": st.integers(0, 10),
            "note": any_text,
            "nested": json_values,
        },
    ),
    min_size=1,
    max_size=2,
)


@st.composite
def fast_indicators(draw: st.DrawFn) -> dict:
    """A valid indicator of the fast-path shape."""
    (_, created_s), (_, modified_s) = sorted(
        [draw(stix_datetimes()), draw(stix_datetimes())], key=lambda pair: pair[0]
    )
    valid_from, valid_from_s = draw(stix_datetimes())
    obj: dict = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": draw(stix_id("indicator")),
        "created": created_s,
        "modified": modified_s,
        "pattern": draw(fast_patterns()),
        "pattern_type": "stix",
        "valid_from": valid_from_s,
    }
    optional = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "pattern_version": st.just("2.1"),
                "name": any_text,
                "description": any_text,
                "indicator_types": str_lists,
                "labels": str_lists,
                "lang": any_text,
                "confidence": st.integers(0, 100),
                "revoked": st.booleans(),
                "created_by_ref": stix_id("identity"),
                "object_marking_refs": st.lists(
                    stix_id("marking-definition"), min_size=1, max_size=3
                ),
                "kill_chain_phases": kill_chain_phases,
                "external_references": external_references,
                "extensions": extensions,
            },
        )
    )
    obj.update(optional)
    if draw(st.booleans()) and valid_from < datetime(9999, 12, 30):
        delta = draw(st.integers(1, 10**12))
        until = min(valid_from + timedelta(microseconds=delta), datetime(9999, 12, 31))
        obj["valid_until"] = stix_timestamp(until)
    obj.update(draw(st.dictionaries(custom_names, custom_values, max_size=3)))
    # shuffle the key order: JSON objects are unordered
    keys = draw(st.permutations(list(obj)))
    return {k: obj[k] for k in keys}


# ------------------------------------------------------------------- mutations

KEYS = sorted(_FAST_KEYS | {"granular_markings"})
junk_values = st.one_of(
    json_values,
    st.just([]),
    st.just({}),
    st.just(None),
    st.lists(any_text, max_size=2),
    st.integers(-5, 200),
    any_text.map(lambda s: [s]),
)


def corrupt_text(data: st.DataObject, text: str) -> str:
    """Insert, delete or replace one character, or swap the case."""
    op = data.draw(st.sampled_from(["insert", "delete", "replace", "case", "append", "strip"]))
    if op == "case":
        return text.swapcase()
    if op == "append":
        return text + data.draw(st.sampled_from(["\n", " ", "Z", "0", "'", "]"]))
    if op == "strip":
        return text[1:]
    if not text:
        return data.draw(any_text)
    i = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.sampled_from([*string.printable[:70], "'", "\\", "é", "\n", "\x00", "٣"]))
    if op == "insert":
        return text[:i] + char + text[i:]
    if op == "delete":
        return text[:i] + text[i + 1 :]
    return text[:i] + char + text[i + 1 :]


def mutate(data: st.DataObject, obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    kind = data.draw(
        st.sampled_from(
            [
                "drop",
                "junk-value",
                "corrupt-string",
                "timestamp-order",
                "pattern-raw-literal",
                "pattern-other-path",
                "pattern-random",
                "extra-property",
                "listify",
                "extensions",
                "nested",
                "versions",
            ]
        )
    )
    if kind == "drop":
        key = data.draw(st.sampled_from(sorted(obj)))
        del obj[key]
    elif kind == "junk-value":
        obj[data.draw(st.sampled_from(KEYS))] = data.draw(junk_values)
    elif kind == "corrupt-string":
        candidates = sorted(k for k, v in obj.items() if isinstance(v, str))
        key = data.draw(st.sampled_from(candidates))
        obj[key] = corrupt_text(data, obj[key])
    elif kind == "timestamp-order":
        pair = data.draw(st.sampled_from([("created", "modified"), ("valid_from", "valid_until")]))
        _, later = data.draw(stix_datetimes())
        _, earlier = data.draw(stix_datetimes())
        obj[pair[0]] = later
        obj[pair[1]] = data.draw(st.sampled_from([earlier, later]))
    elif kind == "pattern-raw-literal":
        path = data.draw(st.sampled_from(STRING_PATHS + sorted(HASH_PATHS)))
        obj["pattern"] = f"[{path} = '{data.draw(any_text)}']"
    elif kind == "pattern-other-path":
        path = data.draw(st.sampled_from(OTHER_PATHS + sorted(HASH_PATHS)))
        literal = data.draw(any_text | st.text(alphabet="0123456789abcdef", max_size=130))
        obj["pattern"] = f"[{path} = '{escape(literal)}']"
    elif kind == "pattern-random":
        obj["pattern"] = data.draw(
            any_text
            | st.sampled_from(
                [
                    "[ipv4-addr:value = '1.2.3.4'] AND [ipv4-addr:value = '5.6.7.8']",
                    "[ipv4-addr:value = '1.2.3.4' OR ipv4-addr:value = '5.6.7.8']",
                    "[ipv4-addr:value != '1.2.3.4']",
                    "[ipv4-addr:value == '1.2.3.4']",
                    "[ipv4-addr:value = '1.2.3.4'] WITHIN 5 SECONDS",
                    '[ipv4-addr:value = "1.2.3.4"]',
                    "[ipv4-addr:value = '1.2.3.4']\n",
                    " [ipv4-addr:value = '1.2.3.4']",
                    "[ipv4-addr:value = '1.2.3.4']]",
                    "[ipv4-addr:value = '\\n']",
                    "[ipv4-addr:value = 'a\\\\\\']",
                    "[ipv4-addr:value='x\\'']",
                    "[file:hashes.'SHA-256' = '" + "a" * 64 + "\n']",
                    "[file:hashes.MD5 = '" + "a" * 31 + "']",
                ]
            )
        )
    elif kind == "extra-property":
        name = data.draw(
            st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_-]{0,12}", fullmatch=True)
            | custom_names.map(str.upper)
            | any_text
            | st.sampled_from(["custom_properties", "x_", "x_a" * 90, "X_foo", "x_é"])
        )
        obj[name] = data.draw(junk_values)
    elif kind == "listify":
        candidates = sorted(k for k, v in obj.items() if isinstance(v, str | int))
        key = data.draw(st.sampled_from(candidates))
        obj[key] = [obj[key]]
    elif kind == "extensions":
        key = data.draw(
            stix_id("extension-definition")
            | st.sampled_from(["extension-definition--1234", "archive-ext", "x-ext"])
        )
        obj["extensions"] = {
            key: data.draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "extension_type": junk_values
                        | st.sampled_from(["new-sdo", "new-sco", "bogus", *EXT_TYPES])
                    },
                )
                | junk_values
            )
        }
    elif kind == "nested":
        key = data.draw(
            st.sampled_from(["kill_chain_phases", "external_references", "granular_markings"])
        )
        item = data.draw(
            st.dictionaries(
                st.sampled_from(
                    [
                        "kill_chain_name",
                        "phase_name",
                        "source_name",
                        "url",
                        "hashes",
                        "marking_ref",
                        "selectors",
                        "lang",
                        "x_extra",
                    ]
                ),
                junk_values | any_text,
                max_size=4,
            )
        )
        obj[key] = [item]
    elif kind == "versions":
        key = data.draw(st.sampled_from(["spec_version", "pattern_version", "pattern_type"]))
        obj[key] = data.draw(
            st.sampled_from(["2.0", "2.1 ", "2.1", "2", "stix", "STIX", "sigma", 2.1, "", None])
        )
    return obj


@st.composite
def mutated_indicators(draw: st.DrawFn) -> dict:
    obj = draw(fast_indicators())
    data = draw(st.data())
    for _ in range(draw(st.integers(1, 3))):
        obj = mutate(data, obj)
    return obj


# -------------------------------------------------------------------- properties


@SETTINGS
@given(fast_indicators())
def test_fast_path_fires_on_valid_fast_shaped_indicators(obj: dict) -> None:
    assert validate_fast(obj) is True
    assert validate_reference(obj) is None


@SETTINGS
@given(mutated_indicators())
def test_fast_path_is_sound(obj: dict) -> None:
    """validate_fast True => the reference path accepts the object."""
    if validate_fast(obj) is True:
        assert validate_reference(obj) is None


@SETTINGS
@given(mutated_indicators())
def test_validate_object_agrees_with_the_reference_and_does_not_mutate(obj: dict) -> None:
    before = copy.deepcopy(obj)
    fast = validate_fast(obj)
    assert fast is True or fast is None
    result = validate_object(obj)
    reference = validate_reference(obj)
    assert (result is None) == (reference is None)
    assert result is None or (isinstance(result, str) and 0 < len(result) <= 300)
    assert obj == before


@SETTINGS
@given(st.sampled_from(STRING_PATHS), any_text, st.booleans())
def test_pattern_literals_are_sound(path: str, literal: str, escaped: bool) -> None:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "pattern": f"[{path} = '{escape(literal) if escaped else literal}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    fast = validate_fast(obj)
    reference = validate_reference(obj)
    if escaped:  # the fast path decides its whole shape, exactly as the reference does
        assert (fast is True) == (reference is None), reference
    if fast is True:
        assert reference is None


@SETTINGS
@given(st.sampled_from(sorted(VALID_VALUES)), st.data())
def test_valid_observable_values_take_the_fast_path(path: str, data: st.DataObject) -> None:
    value = data.draw(VALID_VALUES[path])
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "pattern": f"[{path} = '{escape(value)}']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    assert validate_fast(obj) is True, validate_reference(obj)


@SETTINGS
@given(mutated_indicators())
def test_fast_path_is_sound_against_stix2_itself(obj: dict) -> None:
    """The reference path checks patterns itself and hands stix2 a placeholder, so the
    fast path is also held directly against stix2-patterns and stix2."""
    if validate_fast(obj) is True:
        assert run_validator(obj["pattern"], "2.1") == []
        stix2.parse({k: v for k, v in obj.items() if not k.startswith("x_")}, version="2.1")


@SETTINGS
@given(mutated_indicators())
def test_reference_is_at_least_as_strict_as_stix2(obj: dict) -> None:
    """What the reference path accepts, stix2 accepts with the real pattern in place."""
    if validate_reference(obj) is None:
        stripped = {k: v for k, v in obj.items() if not CUSTOM_PROP_RE.fullmatch(k)}
        stix2.parse(stripped, allow_custom=False, version="2.1")


@SETTINGS
@given(json_values | st.dictionaries(any_text | st.sampled_from(KEYS), json_values, max_size=6))
def test_arbitrary_json_never_raises(value: object) -> None:
    result = validate_object(value)
    assert result is None or (isinstance(result, str) and 0 < len(result) <= 300)
    if validate_fast(value) is True:
        assert validate_reference(value) is None
