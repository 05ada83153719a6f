"""Tests for the object-signature scheme (docs/signing.md) and key loading."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest
import stix2
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityshield.errors import BadRequest, CityShieldError
from cityshield.signing import pool
from cityshield.signing.definition import extension_definition
from cityshield.signing.errors import (
    InvalidSignature,
    MalformedSignature,
    MissingSignature,
    NotCanonicalizable,
    SignatureError,
)
from cityshield.signing.jwk import b64url_decode, b64url_encode, kid_for, public_jwk, public_key_raw
from cityshield.signing.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_to_pem,
)
from cityshield.signing.pool import verify_many
from cityshield.signing.scheme import (
    SIGNATURE_EXTENSION_ID,
    read_signature,
    sign_object,
    signing_input,
    verify_object,
)

# --- Test vector (copied from the scheme's reference document) -----------------------------

SEED_HEX = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
VECTOR_PUBLIC = "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"
VECTOR_KID = "1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y"
VECTOR_SIG = (
    "YI3P-eW32p0meWodfGLpodUrZQoG4t4uT-35Ic64DrslrBIlloYry8wF9YTsJLVCCFmVqt0qy1E4PBxYHaCcCA"
)
VECTOR_INPUT = (
    '{"confidence":80,"created":"2026-11-20T09:15:00.000Z",'
    '"created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",'
    '"id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",'
    '"indicator_types":["malicious-activity"],"modified":"2026-11-20T09:15:00.000Z",'
    '"name":"C2 server seen in water-utility incident",'
    '"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],'
    '"pattern":"[ipv4-addr:value = \'198.51.100.7\']","pattern_type":"stix",'
    '"spec_version":"2.1","type":"indicator","valid_from":"2026-11-20T09:15:00Z"}'
)
VECTOR_SIGNED_TEXT = """{
  "type": "indicator",
  "spec_version": "2.1",
  "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
  "created_by_ref": "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff",
  "created": "2026-11-20T09:15:00.000Z",
  "modified": "2026-11-20T09:15:00.000Z",
  "name": "C2 server seen in water-utility incident",
  "indicator_types": [
    "malicious-activity"
  ],
  "pattern": "[ipv4-addr:value = '198.51.100.7']",
  "pattern_type": "stix",
  "valid_from": "2026-11-20T09:15:00Z",
  "confidence": 80,
  "object_marking_refs": [
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
  ],
  "extensions": {
    "extension-definition--bb39412e-2a52-4efc-a3b5-43da70fc3dda": {
      "extension_type": "property-extension",
      "alg": "Ed25519",
      "kid": "1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y",
      "sig": "<SIG>"
    }
  }
}""".replace("<SIG>", VECTOR_SIG)

KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED_HEX))
PUB = KEY.public_key()
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
OTHER_EXT = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"


def vector_signed() -> dict[str, Any]:
    return json.loads(VECTOR_SIGNED_TEXT)


def vector_unsigned() -> dict[str, Any]:
    obj = vector_signed()
    del obj["extensions"]
    return obj


def entry(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["extensions"][SIGNATURE_EXTENSION_ID]


@pytest.fixture(autouse=True, scope="module")
def _stop_pool() -> Iterator[None]:
    yield
    pool.shutdown_pool()


# --- Test vector ---------------------------------------------------------------------------


def test_vector_public_key_and_kid() -> None:
    assert b64url_encode(public_key_raw(PUB)) == VECTOR_PUBLIC
    assert kid_for(PUB) == VECTOR_KID


def test_vector_signing_input_is_exact() -> None:
    assert signing_input(vector_unsigned()) == VECTOR_INPUT.encode("utf-8")
    assert signing_input(vector_signed()) == VECTOR_INPUT.encode("utf-8")


def test_vector_signature_reproduces_byte_for_byte() -> None:
    signed = sign_object(vector_unsigned(), KEY)
    assert entry(signed)["sig"] == VECTOR_SIG
    assert signed == vector_signed()
    # Same key order and layout as the reference text.
    assert json.dumps(signed, indent=2, ensure_ascii=False) == VECTOR_SIGNED_TEXT


def test_vector_verifies() -> None:
    verify_object(vector_signed(), PUB)
    assert read_signature(vector_signed()) == (VECTOR_KID, b64url_decode(VECTOR_SIG))


def test_kid_matches_rfc8037_thumbprint_example() -> None:
    # RFC 8037 appendix A.3: thumbprint of the A.2 public key.
    key = load_public_key("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    assert kid_for(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_public_jwk() -> None:
    assert public_jwk(PUB) == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": VECTOR_PUBLIC,
        "kid": VECTOR_KID,
        "alg": "EdDSA",
        "use": "sig",
    }
    assert public_jwk(PUB, kid="k1")["kid"] == "k1"


# --- Tampering -----------------------------------------------------------------------------


def _mutate(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return [*value, "x"]
    if isinstance(value, dict):
        return {**value, "x_tampered": True}
    return "x"


@pytest.mark.parametrize("prop", [k for k in json.loads(VECTOR_SIGNED_TEXT) if k != "extensions"])
def test_tampering_any_property_invalidates(prop: str) -> None:
    obj = vector_signed()
    obj[prop] = _mutate(obj[prop])
    with pytest.raises(InvalidSignature) as info:
        verify_object(obj, PUB)
    assert info.value.reason == "signature-invalid"
    assert info.value.http_status == 400


@pytest.mark.parametrize("prop", [k for k in json.loads(VECTOR_SIGNED_TEXT) if k != "extensions"])
def test_removing_any_property_invalidates(prop: str) -> None:
    obj = vector_signed()
    del obj[prop]
    with pytest.raises(InvalidSignature):
        verify_object(obj, PUB)


def test_adding_a_property_invalidates() -> None:
    obj = vector_signed()
    obj["x_city_note"] = "added later"
    with pytest.raises(InvalidSignature):
        verify_object(obj, PUB)


def test_nested_change_invalidates() -> None:
    obj = vector_signed()
    obj["indicator_types"][0] = "benign"
    with pytest.raises(InvalidSignature):
        verify_object(obj, PUB)


def test_wrong_key_is_rejected_even_with_matching_kid() -> None:
    obj = vector_signed()
    entry(obj)["kid"] = kid_for(OTHER_KEY.public_key())
    with pytest.raises(InvalidSignature):
        verify_object(obj, OTHER_KEY.public_key())


def test_kid_must_name_the_verifying_key() -> None:
    obj = sign_object(vector_unsigned(), KEY)
    entry(obj)["kid"] = kid_for(OTHER_KEY.public_key())  # kid is unsigned; must still bind
    with pytest.raises(InvalidSignature, match="does not identify"):
        verify_object(obj, PUB)


# --- Re-serialisation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "dump",
    [
        lambda o: json.dumps(o),
        lambda o: json.dumps(o, sort_keys=True, separators=(",", ":")),
        lambda o: json.dumps(o, indent=7, ensure_ascii=True),
        lambda o: json.dumps(dict(reversed(list(o.items()))), indent="\t"),
    ],
    ids=["compact", "sorted", "indent-ascii", "reversed-tabs"],
)
def test_key_order_and_whitespace_do_not_matter(dump: Any) -> None:
    text = dump(vector_signed())
    assert text != VECTOR_SIGNED_TEXT
    verify_object(json.loads(text), PUB)


def test_stix2_reserialisation_breaks_the_signature_and_the_reason_says_so() -> None:
    """stix2 writes its own form of an object (pattern_version added, timestamps at its own
    precision); the refusal must point at that, not only at tampering or another key."""
    signed = sign_object(dict(vector_unsigned(), valid_from="2026-11-20T09:15:00.000Z"), KEY)
    bundle = json.loads(stix2.v21.Bundle(signed, allow_custom=True).serialize())
    [rewritten] = bundle["objects"]
    assert rewritten["valid_from"] == "2026-11-20T09:15:00Z"  # what the signer did not sign
    assert rewritten["pattern_version"] == "2.1"
    with pytest.raises(InvalidSignature) as info:
        verify_object(rewritten, PUB)
    assert "content differs from what was signed" in info.value.description
    assert "re-serialised" in info.value.description and "stix2" in info.value.description
    assert info.value.reason == "signature-invalid"


def test_sign_object_does_not_mutate_and_keeps_order() -> None:
    original = vector_unsigned()
    original["extensions"] = {OTHER_EXT: {"extension_type": "property-extension", "a": 1}}
    original["x_after"] = 1
    snapshot = copy.deepcopy(original)
    signed = sign_object(original, KEY)
    assert original == snapshot
    assert list(signed) == list(original)  # extensions keeps its position
    assert list(signed["extensions"]) == [OTHER_EXT, SIGNATURE_EXTENSION_ID]


def test_resigning_replaces_the_entry_and_puts_it_last() -> None:
    obj = sign_object(vector_unsigned(), KEY)
    obj["extensions"][OTHER_EXT] = {"extension_type": "property-extension", "a": 1}
    resigned = sign_object(obj, OTHER_KEY)
    assert list(resigned["extensions"]) == [OTHER_EXT, SIGNATURE_EXTENSION_ID]
    assert entry(resigned)["kid"] == kid_for(OTHER_KEY.public_key())
    verify_object(resigned, OTHER_KEY.public_key())
    with pytest.raises(InvalidSignature):
        verify_object(resigned, PUB)


def test_empty_extensions_is_dropped_from_signing_input() -> None:
    obj = vector_unsigned()
    obj["extensions"] = {}
    assert signing_input(obj) == VECTOR_INPUT.encode()
    signed = sign_object(obj, KEY)
    assert entry(signed)["sig"] == VECTOR_SIG


# --- Other extensions are signed -----------------------------------------------------------


def _with_other_extension() -> dict[str, Any]:
    obj = vector_unsigned()
    obj["extensions"] = {OTHER_EXT: {"extension_type": "property-extension", "rank": 5}}
    return sign_object(obj, KEY)


def test_other_extensions_are_in_the_signing_input() -> None:
    signed = _with_other_extension()
    data = signing_input(signed)
    assert OTHER_EXT.encode() in data
    assert SIGNATURE_EXTENSION_ID.encode() not in data
    verify_object(signed, PUB)


def test_changing_another_extension_invalidates() -> None:
    signed = _with_other_extension()
    signed["extensions"][OTHER_EXT]["rank"] = 6
    with pytest.raises(InvalidSignature):
        verify_object(signed, PUB)


def test_adding_another_extension_invalidates() -> None:
    signed = vector_signed()
    signed["extensions"][OTHER_EXT] = {"extension_type": "property-extension"}
    with pytest.raises(InvalidSignature):
        verify_object(signed, PUB)


def test_removing_another_extension_invalidates() -> None:
    signed = _with_other_extension()
    del signed["extensions"][OTHER_EXT]
    with pytest.raises(InvalidSignature):
        verify_object(signed, PUB)


# --- RFC 8785 edge cases -------------------------------------------------------------------


def _base(**props: Any) -> dict[str, Any]:
    return {"type": "indicator", "id": "indicator--00000000-0000-4000-8000-000000000000", **props}


def _transplant(signed: dict[str, Any], onto_text: str) -> dict[str, Any]:
    other = json.loads(onto_text)
    other["extensions"] = copy.deepcopy(signed["extensions"])
    return other


@pytest.mark.parametrize(
    ("escaped", "literal"),
    [
        (r'"\ud83d\ude00 \ud834\udd1e"', '"😀 𝄞"'),  # non-BMP, as surrogate-pair escapes
        (r'"caf\u00e9"', '"café"'),
        (r'"a\/b"', '"a/b"'),
        (r'"\u0041\u005a"', '"AZ"'),
        (r'"\u2028\u007f"', '"\u2028\u007f"'),
    ],
)
def test_escaped_and_literal_strings_give_the_same_signature(escaped: str, literal: str) -> None:
    id_ = _base()["id"]
    a = f'{{"type":"indicator","id":"{id_}","name":{escaped}}}'
    b = f'{{"name": {literal}, "id": "{id_}", "type": "indicator"}}'
    assert a != b
    assert signing_input(json.loads(a)) == signing_input(json.loads(b))
    signed_a = sign_object(json.loads(a), KEY)
    verify_object(_transplant(signed_a, b), PUB)


def test_strings_are_emitted_as_utf8_not_escapes() -> None:
    data = signing_input(_base(name="😀 é \u2028 \u007f"))
    assert '"name":"😀 é \u2028 \u007f"'.encode() in data
    assert b"\\u" not in data


def test_control_characters_use_rfc8785_escapes() -> None:
    data = signing_input(_base(name='\u0000\u001f\b\t\n\f\r"\\/'))
    assert b'"name":"\\u0000\\u001f\\b\\t\\n\\f\\r\\"\\\\/"' in data


def test_combining_characters_are_not_normalised() -> None:
    # JCS does no Unicode normalisation: NFC and NFD spellings are different values.
    nfc, nfd = _base(name="caf\u00e9"), _base(name="cafe\u0301")
    assert signing_input(nfc) != signing_input(nfd)
    signed = sign_object(nfd, KEY)
    verify_object(signed, PUB)
    tampered = {**signed, "name": "caf\u00e9"}
    with pytest.raises(InvalidSignature):
        verify_object(tampered, PUB)


def test_keys_sort_by_utf16_code_units() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+E000 (code-point order says after).
    data = signing_input({"\ue000": 1, "\U0001f600": 2, "a": 3})
    assert data == '{"a":3,"😀":2,"\ue000":1}'.encode()


def test_lone_surrogate_cannot_be_signed() -> None:
    with pytest.raises(NotCanonicalizable) as info:
        sign_object(json.loads(r'{"type":"indicator","name":"\ud800"}'), KEY)
    assert info.value.reason == "not-canonicalizable"


@pytest.mark.parametrize(
    ("text_a", "text_b", "canonical"),
    [
        ("1.0", "1", b"1"),
        ("1e2", "100", b"100"),
        ("1E+2", "100.000", b"100"),
        ("-0.0", "0", b"0"),
        ("-0", "0.0", b"0"),
        ("9007199254740991", "9007199254740991.0", b"9007199254740991"),
        ("-9007199254740991", "-9.007199254740991e15", b"-9007199254740991"),
        ("1e21", "1000000000000000000000.0", b"1e+21"),
        ("1e-7", "0.0000001", b"1e-7"),
        ("0.000001", "1e-6", b"0.000001"),
        ("333333333.33333329", "333333333.3333333", b"333333333.3333333"),
    ],
)
def test_number_spellings_follow_rfc8785(text_a: str, text_b: str, canonical: bytes) -> None:
    a = json.loads(f'{{"type":"indicator","x_n":{text_a}}}')
    b = json.loads(f'{{"type":"indicator","x_n":{text_b}}}')
    assert signing_input(a) == signing_input(b) == b'{"type":"indicator","x_n":' + canonical + b"}"
    signed = sign_object(a, KEY)
    verify_object(_transplant(signed, f'{{"x_n":{text_b},"type":"indicator"}}'), PUB)


def test_float_2_pow_53_is_exact() -> None:
    assert signing_input({"x_n": 2.0**53}) == b'{"x_n":9007199254740992}'


@pytest.mark.parametrize("n", [2**53, -(2**53), 2**53 + 1, 2**64])
def test_integers_beyond_ijson_range_are_refused(n: int) -> None:
    # A verifier holding doubles would read 2**53 + 1 as 2**53: refuse rather than mis-sign.
    with pytest.raises(NotCanonicalizable, match="2\\*\\*53"):
        sign_object(_base(x_n=n), KEY)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_refused(value: float) -> None:
    with pytest.raises(NotCanonicalizable):
        signing_input(_base(x_n=value))


def test_changed_number_invalidates() -> None:
    signed = sign_object(_base(x_n=1), KEY)
    signed["x_n"] = 1.5
    with pytest.raises(InvalidSignature):
        verify_object(signed, PUB)


# --- Missing and malformed signatures ------------------------------------------------------


def test_missing_extensions_property() -> None:
    with pytest.raises(MissingSignature) as info:
        verify_object(vector_unsigned(), PUB)
    assert info.value.reason == "missing-signature"
    assert info.value.details["reason"] == "missing-signature"
    assert info.value.details["object_id"] == vector_unsigned()["id"]
    assert isinstance(info.value, SignatureError)
    assert isinstance(info.value, CityShieldError)
    assert info.value.http_status == 400


def test_missing_entry_among_other_extensions() -> None:
    obj = vector_unsigned()
    obj["extensions"] = {OTHER_EXT: {"extension_type": "property-extension"}}
    with pytest.raises(MissingSignature):
        read_signature(obj)


def _sig_of(n: int) -> str:
    return b64url_encode(b"\x01" * n)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"sig": VECTOR_SIG[:-2] + "+/"}, "base64url"),
        ({"sig": VECTOR_SIG + "=="}, "base64url"),
        ({"sig": VECTOR_SIG[:40] + " " + VECTOR_SIG[40:]}, "base64url"),
        ({"sig": VECTOR_SIG[:-1] + "B"}, "padding bits"),  # same bytes, non-canonical text
        ({"sig": VECTOR_SIG + "AAA"}, "impossible length"),
        ({"sig": _sig_of(63)}, "64 bytes"),
        ({"sig": _sig_of(65)}, "64 bytes"),
        ({"sig": ""}, "64 bytes"),
        ({"sig": 12}, "base64url"),
        ({"alg": "EdDSA"}, "alg"),
        ({"alg": "RS256"}, "alg"),
        ({"alg": None}, "alg"),
        ({"extension_type": "toplevel-property-extension"}, "extension_type"),
        ({"kid": "not-a-thumbprint"}, "kid"),
        ({"kid": VECTOR_KID + "AA"}, "kid"),
        ({"x_note": "unsigned rider"}, "unexpected"),
    ],
)
def test_malformed_entry(change: dict[str, Any], message: str) -> None:
    obj = vector_signed()
    entry(obj).update(change)
    with pytest.raises(MalformedSignature, match=message) as info:
        verify_object(obj, PUB)
    assert info.value.reason == "malformed-signature"


@pytest.mark.parametrize("prop", ["extension_type", "alg", "kid", "sig"])
def test_entry_missing_a_property(prop: str) -> None:
    obj = vector_signed()
    del entry(obj)[prop]
    with pytest.raises(MalformedSignature, match=prop):
        read_signature(obj)


@pytest.mark.parametrize("bad", ["a string", ["list"], None, 5])
def test_entry_not_an_object(bad: Any) -> None:
    obj = vector_signed()
    obj["extensions"][SIGNATURE_EXTENSION_ID] = bad
    with pytest.raises(MalformedSignature, match="JSON object"):
        read_signature(obj)


def test_extensions_not_an_object() -> None:
    obj = vector_signed()
    obj["extensions"] = [entry(obj)]
    with pytest.raises(MalformedSignature, match="'extensions'"):
        read_signature(obj)
    with pytest.raises(MalformedSignature):
        sign_object(obj, KEY)


def test_b64url_decode_is_strict() -> None:
    assert b64url_decode("") == b""
    assert b64url_decode("_-8") == b"\xff\xef"
    for bad in ["/+8", "_-8=", "_-8\n", "A", "AB=C", "é"]:
        with pytest.raises(ValueError):
            b64url_decode(bad)


# --- Batches -------------------------------------------------------------------------------


def _batch(n: int) -> tuple[list[tuple[dict[str, Any], Any]], list[type[SignatureError] | None]]:
    other_pub = OTHER_KEY.public_key()
    items: list[tuple[dict[str, Any], Any]] = []
    expected: list[type[SignatureError] | None] = []
    for i in range(n):
        obj = sign_object(_base(id=f"indicator--{i:08d}-0000-4000-8000-000000000000", x_i=i), KEY)
        kind = i % 7
        if kind == 1:
            obj["x_i"] = i + 1
            expected.append(InvalidSignature)
        elif kind == 2:
            del obj["extensions"]
            expected.append(MissingSignature)
        elif kind == 3:
            entry(obj)["sig"] = _sig_of(10)
            expected.append(MalformedSignature)
        elif kind == 4:
            items.append((obj, other_pub))  # kid names another key
            expected.append(InvalidSignature)
            continue
        elif kind == 5:
            entry(obj)["sig"] = b64url_encode(bytes(64))  # well-formed, wrong
            expected.append(InvalidSignature)
        else:
            expected.append(None)
        items.append((obj, PUB))
    return items, expected


def _check(results: list[SignatureError | None], expected: list[Any]) -> None:
    assert len(results) == len(expected)
    for i, (got, want) in enumerate(zip(results, expected, strict=True)):
        if want is None:
            assert got is None, (i, got)
        else:
            assert type(got) is want, (i, got)


def test_verify_many_small_batch() -> None:
    items, expected = _batch(50)
    _check(verify_many(items), expected)


def test_verify_many_large_batch_uses_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "_usable_cpus", lambda: 2)  # use the pool even on one core
    items, expected = _batch(700)
    assert len(items) > pool.PARALLEL_THRESHOLD
    results = verify_many(items)
    assert pool._pool is not None
    _check(results, expected)
    assert results[1] is not None
    assert results[1].details["object_id"] == items[1][0]["id"]


class _BrokenPool:
    """Stands in for a pool whose worker died: every chunk fails with BrokenProcessPool."""

    def __init__(self) -> None:
        self.shut_down = False

    def submit(self, fn: Any, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(BrokenProcessPool("worker died"))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.shut_down = True


def test_verify_many_falls_back_when_the_pool_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = _BrokenPool()
    monkeypatch.setattr(pool, "_usable_cpus", lambda: 2)
    monkeypatch.setattr(pool, "_get_pool", lambda: broken)
    items, expected = _batch(400)
    _check(verify_many(items), expected)
    assert broken.shut_down


def test_verify_many_matches_verify_object() -> None:
    items, _ = _batch(300)
    sequential = [pool._verify_one(o, k) for o, k in items]
    assert [type(r) for r in verify_many(items)] == [type(r) for r in sequential]


# --- Property test -------------------------------------------------------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=15,
)
_ext_ids = st.uuids().map(lambda u: f"extension-definition--{u}")
_other_exts = st.dictionaries(
    _ext_ids,
    st.dictionaries(st.from_regex(r"[a-z_]{3,12}", fullmatch=True), _json, max_size=3).map(
        lambda d: {"extension_type": "property-extension", **d}
    ),
    max_size=2,
)
_stix_like = st.builds(
    lambda base, custom, exts, stale: {
        **base,
        **custom,
        **({"extensions": exts} if exts else {}),
        **({"extensions": {**exts, SIGNATURE_EXTENSION_ID: {"stale": 1}}} if stale else {}),
    },
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["indicator", "sighting", "identity", "x-city-asset"]),
            "spec_version": st.just("2.1"),
            "id": st.uuids().map(lambda u: f"indicator--{u}"),
            "created": st.just("2026-11-20T09:15:00.000Z"),
        },
        optional={
            "name": _text,
            "confidence": st.integers(0, 100),
            "labels": st.lists(_text, max_size=3),
            "revoked": st.booleans(),
        },
    ),
    st.dictionaries(st.from_regex(r"x_[a-z_]{1,10}", fullmatch=True), _json, max_size=4),
    _other_exts,
    st.booleans(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=_stix_like)
def test_sign_then_verify_roundtrip(obj: dict[str, Any]) -> None:
    snapshot = copy.deepcopy(obj)
    signed = sign_object(obj, KEY)
    assert obj == snapshot
    verify_object(signed, PUB)
    data = signing_input(signed)
    assert SIGNATURE_EXTENSION_ID.encode() not in data
    assert entry(signed)["sig"].encode() not in data
    assert data == signing_input(obj)
    # Any JSON round trip that keeps the value keeps the signature valid.
    verify_object(json.loads(json.dumps(signed, indent=1, ensure_ascii=True)), PUB)
    verify_object(json.loads(json.dumps(signed, sort_keys=True, ensure_ascii=False)), PUB)


# --- extension-definition ------------------------------------------------------------------


def test_extension_definition_is_valid_stix() -> None:
    hub = "identity--5a5f2a8e-3f6e-4b8e-9a36-7c0c2f8d1b11"
    ext = extension_definition(hub, "2026-01-01T00:00:00.000Z")
    assert ext["id"] == SIGNATURE_EXTENSION_ID
    assert ext["created_by_ref"] == hub
    assert ext["created"] == ext["modified"] == "2026-01-01T00:00:00.000Z"
    assert ext["extension_types"] == ["property-extension"]
    assert ext["version"] == "1.0.0"
    assert json.loads(ext["schema"])["required"] == ["extension_type", "alg", "kid", "sig"]
    parsed = stix2.parse(ext, allow_custom=False)
    assert parsed.id == SIGNATURE_EXTENSION_ID
    assert (
        extension_definition(hub, "2026-01-01T00:00:00.000Z", schema="https://h/s")["schema"]
        == "https://h/s"
    )
    with pytest.raises(ValueError):
        extension_definition("organization--x", "2026-01-01T00:00:00.000Z")


# --- Keys ----------------------------------------------------------------------------------


def test_generate_and_pem_roundtrip() -> None:
    key = generate_private_key()
    pem = private_key_to_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = load_private_key(pem)
    assert public_key_raw(loaded.public_key()) == public_key_raw(key.public_key())
    pub_pem = public_key_to_pem(key.public_key())
    assert pub_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert public_key_raw(load_public_key(pub_pem)) == public_key_raw(key.public_key())
    assert public_key_raw(load_public_key(pub_pem.decode())) == public_key_raw(key.public_key())


def test_load_private_key_from_seed_text() -> None:
    for text in [SEED_HEX, SEED_HEX.upper(), b64url_encode(bytes.fromhex(SEED_HEX)) + "\n"]:
        assert kid_for(load_private_key(text.encode()).public_key()) == VECTOR_KID
    with pytest.raises(BadRequest):
        load_private_key(b"not a key")
    with pytest.raises(BadRequest, match="RSA"):
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        load_private_key(
            rsa_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def test_load_public_key_raw_and_jwk() -> None:
    assert kid_for(load_public_key(VECTOR_PUBLIC)) == VECTOR_KID
    assert kid_for(load_public_key(VECTOR_PUBLIC.encode() + b"\n")) == VECTOR_KID
    jwk_text = json.dumps(public_jwk(PUB))
    assert kid_for(load_public_key(jwk_text)) == VECTOR_KID
    minimal = json.dumps({"kty": "OKP", "crv": "Ed25519", "x": VECTOR_PUBLIC})
    assert kid_for(load_public_key(minimal.encode())) == VECTOR_KID


def test_load_public_key_rejects_rsa_pem() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(BadRequest, match="got an RSA key") as info:
        load_public_key(pem)
    assert info.value.http_status == 400


def test_load_public_key_rejects_ec_pem() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(BadRequest, match="EC key on secp256r1"):
        load_public_key(pem)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (private_key_to_pem(KEY), "private key"),
        ("hello", "unrecognised"),
        (VECTOR_PUBLIC[:-1], "unrecognised"),
        (b"\x30\x82\x01\x22", "not ASCII"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "cannot load"),
        ('{"kty": "RSA", "n": "x", "e": "AQAB"}', "kty='RSA'"),
        ('{"kty": "OKP", "crv": "X25519", "x": "' + VECTOR_PUBLIC + '"}', "crv='X25519'"),
        ('{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}', "32-byte"),
        ('{"keys": []}', "JWK Set"),
        ('{"kty": "OKP", "crv": "Ed25519", "x": "' + VECTOR_PUBLIC + '", "d": "x"}', "'d'"),
        ('{"kty": "OKP", "crv": "Ed25519", "x": "' + VECTOR_PUBLIC + '", "kid": "k"}', "kid"),
        ("{not json", "does not parse"),
    ],
)
def test_load_public_key_rejects(data: bytes | str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        load_public_key(data)
