"""Concrete cases for the STIX 2.1 ingest validator (cityshield.stix.validation)."""

from __future__ import annotations

import copy
import json

import pytest
import stix2

from cityshield.stix.validation import validate_fast, validate_object, validate_reference

UUID = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
UUID2 = "d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
TS = "2024-03-01T12:00:00.000Z"
LATER = "2024-03-02T08:30:00.123Z"
EXT_DEF = f"extension-definition--{UUID2}"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def indicator(**changes: object) -> dict:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{UUID}",
        "created": TS,
        "modified": LATER,
        "name": "C2 address",
        "indicator_types": ["malicious-activity"],
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": TS,
    }
    for key, value in changes.items():
        if value is ...:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


def sdo(type_: str, **props: object) -> dict:
    return {
        "type": type_,
        "spec_version": "2.1",
        "id": f"{type_}--{UUID}",
        "created": TS,
        "modified": TS,
        **props,
    }


def assert_valid(obj: object) -> None:
    before = copy.deepcopy(obj)
    assert validate_reference(obj) is None
    assert validate_object(obj) is None
    assert obj == before, "the validator must not mutate its input"


def assert_invalid(obj: object, *fragments: str) -> str:
    before = copy.deepcopy(obj)
    reason = validate_object(obj)
    assert isinstance(reason, str) and reason
    assert len(reason) <= 300
    assert validate_reference(obj) is not None
    assert validate_fast(obj) is None, "the fast path never rejects and never accepts this"
    for fragment in fragments:
        assert fragment in reason, reason
    assert obj == before, "the validator must not mutate its input"
    return reason


# ---------------------------------------------------------------- indicators


def test_valid_indicator_passes_and_takes_the_fast_path() -> None:
    obj = indicator()
    assert validate_fast(obj) is True
    assert_valid(obj)


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '198.51.100.7']",
        "[ipv6-addr:value = '2001:db8::1']",
        "[domain-name:value = 'evil.example']",
        "[url:value = 'https://evil.example/a?b=c']",
        "[email-addr:value = 'phish@evil.example']",
        f"[file:hashes.'SHA-256' = '{SHA256}']",
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        "[file:name = 'it\\'s a \\\\path\\\\évil.exe']",
        "[process:command_line = 'powershell -enc AAAA']",
    ],
)
def test_common_patterns_take_the_fast_path(pattern: str) -> None:
    obj = indicator(pattern=pattern)
    assert validate_fast(obj) is True
    assert_valid(obj)


def test_full_featured_indicator_takes_the_fast_path() -> None:
    obj = indicator(
        description="seen in phishing",
        created_by_ref=f"identity--{UUID2}",
        valid_until="2025-01-01T00:00:00Z",
        kill_chain_phases=[
            {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}
        ],
        labels=["city-a"],
        confidence=85,
        lang="en",
        external_references=[{"source_name": "cert", "url": "https://cert.example/1"}],
        object_marking_refs=["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],
        revoked=False,
        extensions={EXT_DEF: {"extension_type": "property-extension", "rank": 5}},
        x_cityshield_source="city-a",
    )
    assert validate_fast(obj) is True
    assert_valid(obj)


def test_indicator_without_pattern_version_passes() -> None:
    assert_valid(indicator(pattern_version=...))


def test_stix_created_indicator_round_trips() -> None:
    made = stix2.Indicator(
        pattern="[domain-name:value = 'evil.example']",
        pattern_type="stix",
        valid_from=TS,
    )
    obj = json.loads(made.serialize())
    assert validate_fast(obj) is True
    assert_valid(obj)


def test_custom_x_property_passes() -> None:
    obj = indicator(x_city="Lyon", x_score_v2={"a": [1, 2]})
    assert validate_fast(obj) is True
    assert_valid(obj)


@pytest.mark.parametrize("name", ["X_Foo", "foo", "x_Foo", "x-foo", "x_", "xfoo", "x_é"])
def test_bad_custom_property_names_are_rejected(name: str) -> None:
    assert_invalid(indicator(**{name: "v"}), "custom property")


@pytest.mark.parametrize("name", ["custom_properties", "allow_custom", "interoperability"])
def test_names_stix2_would_interpret_are_rejected(name: str) -> None:
    assert_invalid(indicator(**{name: {"foo": 1}}), name)


def test_extension_definition_extension_passes() -> None:
    obj = indicator(extensions={EXT_DEF: {"extension_type": "property-extension", "rank": 5}})
    assert_valid(obj)


@pytest.mark.parametrize(
    "extensions, fragment",
    [
        ({EXT_DEF: {"extension_type": "bogus"}}, "extension_type"),
        ({EXT_DEF: {"extension_type": ["property-extension"]}}, "extension_type"),
        ({EXT_DEF: 5}, "must be an object"),
        ({EXT_DEF: ["property-extension"]}, "must be an object"),
        ({"extension-definition--not-a-uuid": {}}, "extension-definition"),
        ({"my-ext": {"a": 1}}, "unknown extension"),
        ({}, "must not be empty"),
        ([EXT_DEF], "must be an object"),
    ],
)
def test_bad_extensions_are_rejected(extensions: object, fragment: str) -> None:
    assert_invalid(indicator(extensions=extensions), fragment)


def test_toplevel_property_extension_allows_its_properties() -> None:
    ext = {EXT_DEF: {"extension_type": "toplevel-property-extension"}}
    assert_valid(indicator(extensions=ext, city_rank=3))
    assert_invalid(indicator(extensions=ext, **{"City-Rank": 3}), "custom property")


@pytest.mark.parametrize(
    "pattern",
    [
        "[ipv4-addr:value = '1.2.3.4'",
        "ipv4-addr:value = '1.2.3.4'",
        "[ipv4-addr:value = 'a\\nb']",
        "[ipv4-addr:value = 'it's']",
        "[file:hashes.'SHA-256' = 'zz']",
        "[ipv4-addr:value = '1' AND]",
        "",
    ],
)
def test_malformed_pattern_is_rejected_with_a_reason_about_the_pattern(pattern: str) -> None:
    assert_invalid(indicator(pattern=pattern), "pattern")


def test_non_stix_pattern_types_are_not_parsed() -> None:
    assert_valid(indicator(pattern_type="sigma", pattern="title: x", pattern_version=...))


@pytest.mark.parametrize(
    "bad_id",
    [
        f"malware--{UUID}",
        f"indicator-{UUID}",
        "indicator--1234",
        f"indicator--{{{UUID}}}",
        "indicator--8e2e2d2b17d44cbf938f98ee46b3cd3f",
        f"indicator--urn:uuid:{UUID}",
        "indicator--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f",  # not the RFC 4122 variant
        "indicator--00000000-0000-0000-0000-000000000000",
        f"indicator--{UUID}\n",
        f"Indicator--{UUID}",
        42,
    ],
)
def test_bad_ids_are_rejected(bad_id: object) -> None:
    assert_invalid(indicator(id=bad_id), "id")


@pytest.mark.parametrize(
    "timestamp",
    [
        "2024-3-1T12:00:00Z",
        "2024-03-01t12:00:00z",
        "2024-03-01 12:00:00Z",
        "2024-03-01T12:00:00",
        "2024-03-01T12:00:00+00:00",
        "2024-02-30T12:00:00Z",
        "2024-03-01T24:00:00Z",
        "2024-03-01T12:00:60Z",
        "2024-03-01T12:00:00.1234567Z",
        "0000-01-01T00:00:00Z",
        "٢٠٢٤-03-01T12:00:00Z",
        "2024-03-01T12:00:00Z\n",
        1709294400,
        "",
    ],
)
@pytest.mark.parametrize("field", ["created", "modified", "valid_from", "valid_until"])
def test_bad_timestamps_are_rejected(field: str, timestamp: object) -> None:
    obj = indicator(**{field: timestamp})
    if field == "created":
        obj["modified"] = "2099-01-01T00:00:00Z"
    assert_invalid(obj, field)


def test_modified_earlier_than_created_is_rejected() -> None:
    assert_invalid(indicator(created=LATER, modified=TS), "modified")


def test_modified_equal_to_created_passes() -> None:
    assert_valid(indicator(created=TS, modified=TS))


@pytest.mark.parametrize("valid_until", [TS, "2023-01-01T00:00:00Z"])
def test_valid_until_must_be_after_valid_from(valid_until: str) -> None:
    assert_invalid(indicator(valid_until=valid_until), "valid_until")


def test_wrong_spec_version_is_rejected() -> None:
    assert_invalid(indicator(spec_version="2.0"), "spec_version")
    assert_invalid(indicator(spec_version=2.1), "spec_version")


@pytest.mark.parametrize(
    "missing",
    ["type", "id", "spec_version", "created", "modified", "pattern", "pattern_type", "valid_from"],
)
def test_missing_required_properties_are_rejected(missing: str) -> None:
    assert_invalid(indicator(**{missing: ...}), missing)


@pytest.mark.parametrize(
    "prop, value, fragment",
    [
        ("name", 123, "'name' must be a string"),
        ("name", ["a"], "'name' must be a string"),
        ("name", None, "null"),
        ("description", {"a": 1}, "must be a string"),
        ("labels", [], "empty list"),
        ("labels", "one", "must be a list"),
        ("labels", ["a", 2], "'labels[1]' must be a string"),
        ("indicator_types", "malicious-activity", "must be a list"),
        ("confidence", "50", "must be an integer"),
        ("confidence", 50.0, "must be an integer"),
        ("confidence", True, "must be an integer"),
        ("confidence", 101, "between 0 and 100"),
        ("confidence", -1, "between 0 and 100"),
        ("revoked", "false", "must be a boolean"),
        ("revoked", 0, "must be a boolean"),
        ("lang", 5, "must be a string"),
        ("pattern", 5, "must be a string"),
        ("pattern_type", ["stix"], "must be a string"),
        ("created_by_ref", f"malware--{UUID}", "created_by_ref"),
        ("created_by_ref", f"identity--{UUID}x", "created_by_ref"),
        ("object_marking_refs", f"marking-definition--{UUID}", "must be a list"),
        ("object_marking_refs", [f"identity--{UUID}"], "object_marking_refs"),
        ("kill_chain_phases", [{"kill_chain_name": "k"}], "phase_name"),
        ("kill_chain_phases", [{"kill_chain_name": "k", "phase_name": 3}], "phase_name"),
        ("kill_chain_phases", [{"kill_chain_name": "k", "phase_name": "p", "x_a": 1}], "x_a"),
        ("kill_chain_phases", ["delivery"], "must be an object"),
        ("external_references", [{"url": "https://x"}], "source_name"),
        ("external_references", [{"source_name": "only"}], "external_references"),
        ("external_references", [None], "must be an object"),
        ("external_references", [{"source_name": "s", "url": "u", "hashes": {"MD5": "z"}}], "MD5"),
        ("granular_markings", [{"marking_ref": f"marking-definition--{UUID}"}], "selectors"),
        ("granular_markings", [{"lang": "en", "selectors": ["nope"]}], "nope"),
    ],
)
def test_wrongly_typed_or_invalid_properties_are_rejected(
    prop: str, value: object, fragment: str
) -> None:
    assert_invalid(indicator(**{prop: value}), fragment)


def test_granular_markings_are_checked_by_the_reference() -> None:
    obj = indicator(
        granular_markings=[
            {"marking_ref": f"marking-definition--{UUID2}", "selectors": ["name", "labels"]}
        ],
        labels=["a"],
    )
    assert validate_fast(obj) is None
    assert_valid(obj)


# ---------------------------------------------------------- other object types


def test_unknown_type_is_rejected() -> None:
    assert_invalid(sdo("x-foo", name="n"), "unknown object type 'x-foo'")


@pytest.mark.parametrize("type_", ["X-Foo", "a", "foo_bar", "-foo", "f" * 251])
def test_invalid_type_names_are_rejected(type_: str) -> None:
    obj = sdo("identity", name="n", identity_class="organization")
    obj["type"] = type_
    assert_invalid(obj, "type")


def test_bundle_is_not_an_object() -> None:
    assert_invalid({"type": "bundle", "id": f"bundle--{UUID}", "objects": []}, "bundle")


def test_object_type_defined_by_an_extension_definition_passes() -> None:
    obj = sdo(
        "x-acme-widget",
        widget_size=3,
        extensions={EXT_DEF: {"extension_type": "new-sdo"}},
    )
    assert_valid(obj)
    assert_invalid({**obj, "created": "yesterday"}, "created")
    assert_invalid({k: v for k, v in obj.items() if k != "modified"}, "modified")


@pytest.mark.parametrize(
    "obj",
    [
        sdo("identity", name="ACME City", identity_class="organization"),
        sdo("malware", name="Emotet", is_family=True, malware_types=["trojan"]),
        sdo("threat-actor", name="Group X", threat_actor_types=["crime-syndicate"]),
        sdo("attack-pattern", name="Spearphishing"),
        sdo("campaign", name="C", first_seen=TS, last_seen=LATER),
        sdo("vulnerability", name="CVE-2024-0001"),
        sdo("location", latitude=48.85, longitude=2, name="Paris"),
        sdo("note", content="seen", object_refs=[f"indicator--{UUID}"]),
        sdo(
            "relationship",
            relationship_type="indicates",
            source_ref=f"indicator--{UUID}",
            target_ref=f"malware--{UUID2}",
        ),
        sdo(
            "sighting",
            sighting_of_ref=f"indicator--{UUID}",
            count=3,
            where_sighted_refs=[f"identity--{UUID2}"],
            first_seen=TS,
            last_seen=LATER,
        ),
        sdo(
            "observed-data",
            first_observed=TS,
            last_observed=TS,
            number_observed=1,
            object_refs=[f"ipv4-addr--{UUID}"],
        ),
        sdo(
            "language-content",
            object_ref=f"indicator--{UUID}",
            contents={"fr": {"name": "adresse C2"}},
        ),
        sdo(
            "extension-definition",
            created_by_ref=f"identity--{UUID2}",
            name="rank",
            schema="https://example.org/rank.json",
            version="1.0",
            extension_types=["property-extension"],
        ),
    ],
    ids=lambda o: o["type"],
)
def test_other_object_types_pass(obj: dict) -> None:
    assert_valid(obj)


@pytest.mark.parametrize(
    "obj, fragment",
    [
        (sdo("malware", name="Emotet"), "is_family"),
        (sdo("identity", identity_class="organization"), "name"),
        (sdo("relationship", relationship_type="r", source_ref=f"indicator--{UUID}"), "target"),
        (sdo("sighting", sighting_of_ref=f"indicator--{UUID}", count="3"), "count"),
        (sdo("sighting", sighting_of_ref=f"indicator--{UUID}", count=-1), "count"),
        (sdo("campaign", name="C", first_seen=LATER, last_seen=TS), "last_seen"),
        (sdo("location", latitude="48.85", longitude=2), "latitude"),
        (sdo("location", latitude=91.0, longitude=2), "latitude"),
    ],
    ids=lambda o: o["type"] if isinstance(o, dict) else o,
)
def test_invalid_other_objects_are_rejected(obj: dict, fragment: str) -> None:
    assert_invalid(obj, fragment)


@pytest.mark.parametrize(
    "marking", [stix2.TLP_WHITE, stix2.TLP_GREEN, stix2.TLP_AMBER, stix2.TLP_RED]
)
def test_tlp_1_marking_definitions_pass(marking: stix2.MarkingDefinition) -> None:
    assert_valid(json.loads(marking.serialize()))


def test_tlp_1_marking_with_a_foreign_id_is_rejected() -> None:
    obj = json.loads(stix2.TLP_GREEN.serialize())
    obj["id"] = f"marking-definition--{UUID}"
    assert_invalid(obj, "marking")


@pytest.mark.parametrize(
    "uuid, level",
    [
        ("94868c89-83c2-464b-929b-a1a8aa3c8487", "clear"),
        ("bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "green"),
        ("55d920b0-5e8b-4f79-9ee9-91f868d9b421", "amber"),
        ("939a9414-2ddd-4d32-a0cd-375ea402b003", "amber+strict"),
        ("e828b379-4e03-4974-9ac4-e53a884c97c1", "red"),
    ],
)
def test_tlp_2_marking_definitions_pass(uuid: str, level: str) -> None:
    obj = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid}",
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": level,
            }
        },
    }
    assert_valid(obj)


def test_statement_marking_passes_and_its_definition_is_typed() -> None:
    obj = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{UUID}",
        "created": TS,
        "definition_type": "statement",
        "definition": {"statement": "Copyright City of Lyon"},
    }
    assert_valid(obj)
    assert_invalid({**obj, "definition": {"statement": 5}}, "statement")
    assert_invalid({**obj, "definition": "Copyright"}, "definition")
    assert_invalid({k: v for k, v in obj.items() if k != "created"}, "created")


@pytest.mark.parametrize(
    "obj",
    [
        {"type": "ipv4-addr", "id": f"ipv4-addr--{UUID}", "value": "198.51.100.3"},
        {"type": "ipv4-addr", "spec_version": "2.1", "id": f"ipv4-addr--{UUID}", "value": "1"},
        {"type": "domain-name", "id": f"domain-name--{UUID}", "value": "evil.example"},
        {"type": "url", "id": f"url--{UUID}", "value": "https://evil.example/"},
        {"type": "file", "id": f"file--{UUID}", "name": "a.exe", "hashes": {"SHA-256": SHA256}},
        {
            "type": "file",
            "id": f"file--{UUID}",
            "name": "a.zip",
            "extensions": {"archive-ext": {"contains_refs": [f"file--{UUID2}"]}},
        },
    ],
    ids=lambda o: o["type"],
)
def test_scos_pass_with_or_without_spec_version(obj: dict) -> None:
    assert_valid(obj)


@pytest.mark.parametrize(
    "obj, fragment",
    [
        ({"type": "ipv4-addr", "value": "198.51.100.3"}, "id"),
        ({"type": "ipv4-addr", "id": f"ipv4-addr--{UUID}"}, "value"),
        ({"type": "ipv4-addr", "id": f"ipv4-addr--{UUID}", "value": 3}, "value"),
        ({"type": "ipv4-addr", "spec_version": "2.0", "id": f"ipv4-addr--{UUID}"}, "spec"),
        ({"type": "file", "id": f"file--{UUID}", "hashes": {"SHA-256": "zz"}}, "SHA"),
        ({"type": "file", "id": f"file--{UUID}", "size": "10", "name": "a"}, "size"),
        (
            {"type": "file", "id": f"file--{UUID}", "extensions": {"ntfs-ext": {"sid": 5}}},
            "sid",
        ),
    ],
)
def test_invalid_scos_are_rejected(obj: dict, fragment: str) -> None:
    assert_invalid(obj, fragment)


# ----------------------------------------------------------------- junk input


def _deep(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    "junk",
    [
        None,
        0,
        3.5,
        True,
        "indicator",
        b"{}",
        [],
        [indicator()],
        {},
        {"type": None},
        {"type": ["indicator"]},
        {"type": "indicator"},
        {"type": "indicator", "id": {"a": 1}},
        {1: "x", "type": "indicator"},
        {"type": "indicator", "id": f"indicator--{UUID}", "spec_version": "2.1", "pattern": []},
        indicator(extensions={EXT_DEF: {"extension_type": "property-extension", "d": _deep(3000)}}),
        indicator(kill_chain_phases=_deep(50)),
        indicator(external_references=[_deep(50)]),
        indicator(labels=[{"a": [None, {"b": float("nan")}]}]),
        indicator(name="x" * 5_000_000, pattern=None),
        indicator(pattern="[" * 10_000),
    ],
)
def test_junk_gets_a_reason_never_an_exception(junk: object) -> None:
    reason = validate_object(junk)
    assert isinstance(reason, str) and 0 < len(reason) <= 300
    assert validate_fast(junk) is None


def test_deep_custom_values_are_not_walked() -> None:
    obj = indicator(x_blob=_deep(5000))
    assert validate_fast(obj) is None  # too deep to prove cheaply
    assert validate_object(obj) is None


@pytest.mark.parametrize("char", ["\ud800", "\x00", "\n", "\x7f", "\x85"])
def test_lone_surrogates_and_control_characters_in_a_pattern_literal_are_rejected(
    char: str,
) -> None:
    assert_invalid(indicator(pattern=f"[file:name = 'a{char}b']"), "pattern value")


def test_other_unicode_in_a_pattern_literal_passes() -> None:
    obj = indicator(pattern="[file:name = 'a\u2028b\u202egpj.exe\ufeff']")
    assert validate_fast(obj) is True
    assert_valid(obj)


def test_reason_is_trimmed() -> None:
    obj = indicator(pattern="[file:hashes.'SHA-256' = '" + "z" * 2000 + "']")
    reason = assert_invalid(obj, "pattern")
    assert len(reason) <= 300
