"""Good and bad values per observable type (cityshield.stix.observables)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityshield.stix.normalize import normalize_value
from cityshield.stix.observables import MAX_VALUE_LENGTH, observable_reason
from tests.utils.observables import BAD, GOOD

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
VALUE = ("value",)

HASHES = [
    ("MD5", 32),
    ("SHA-1", 40),
    ("SHA-256", 64),
    ("SHA-512", 128),
    ("SHA3-256", 64),
    ("SHA3-512", 128),
]


@pytest.mark.parametrize("obj_type, value", GOOD)
def test_valid_values_pass(obj_type: str, value: str) -> None:
    assert observable_reason(obj_type, VALUE, value) is None


@pytest.mark.parametrize("obj_type, value, fragment", BAD)
def test_invalid_values_get_a_reason(obj_type: str, value: str, fragment: str) -> None:
    reason = observable_reason(obj_type, VALUE, value)
    assert reason is not None and reason.startswith(f"is not a valid {obj_type}: "), reason
    assert fragment in reason
    assert len(reason) < 250, "a library message that repeats the value is clipped"


@pytest.mark.parametrize("algorithm, length", HASHES)
def test_hashes_need_exactly_their_hex_length(algorithm: str, length: int) -> None:
    path = ("hashes", algorithm)
    assert observable_reason("file", path, "aB" * (length // 2)) is None
    assert observable_reason("artifact", path, "0" * length) is None  # any object type
    for bad in ("a" * (length - 1), "a" * (length + 1), "g" * length, f" {'a' * length}"):
        reason = observable_reason("file", path, bad)
        assert reason is not None and reason.startswith("is not a valid hash: "), bad


def test_hash_algorithm_spellings_are_normalised_before_the_check() -> None:
    assert observable_reason("file", ("hashes", "sha256"), SHA256) is None
    assert "SHA-256 hash must be 64" in str(observable_reason("file", ("hashes", "sha_256"), "ab"))


def test_unknown_and_variable_hash_algorithms_are_not_length_checked() -> None:
    assert (
        observable_reason("file", ("hashes", "SSDEEP"), "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGH") is None
    )
    assert observable_reason("file", ("hashes", "x-imphash"), "anything") is None


@pytest.mark.parametrize(
    "char", ["\x00", "\x01", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\ud800"]
)
@pytest.mark.parametrize("obj_type", ["domain-name", "ipv4-addr", "file", "x-custom"])
def test_control_characters_are_refused_in_every_value(char: str, obj_type: str) -> None:
    reason = observable_reason(obj_type, VALUE, f"evil{char}.example")
    assert reason is not None and reason.startswith("contains a control character (U+"), reason


@pytest.mark.parametrize("obj_type, path", [("file", ("name",)), ("ipv4-addr", VALUE)])
def test_any_value_has_a_length_limit(obj_type: str, path: tuple[str, ...]) -> None:
    assert observable_reason("file", ("name",), "a" * MAX_VALUE_LENGTH) is None
    reason = observable_reason(obj_type, path, "1" * (MAX_VALUE_LENGTH + 1))
    assert reason == f"is {MAX_VALUE_LENGTH + 1} characters; the limit is {MAX_VALUE_LENGTH}"


def test_other_paths_and_types_only_get_the_general_rules() -> None:
    assert observable_reason("ipv4-addr", ("resolves_to_refs", "[*]", "value"), "x") is None
    assert observable_reason("file", ("name",), "999.1.1.1") is None
    assert observable_reason("x-custom", VALUE, "not an address") is None
    assert observable_reason("mac-addr", VALUE, "whatever") is None


# ------------------------------------------------------------------ properties

# Text rich in what the normalisers and the rules react to.
tricky_text = st.lists(
    st.sampled_from(
        [
            *("[", "]", "(", ")", "{", "}", ".", ":", "/", "@", "%", "?", "#", "-", "_", " "),
            *("[.]", "[dot]", "(.)", "[:]", "[://]", "[@]", "[at]", "hxxp", "fxp", "http://"),
            *("://", "%2e", "%2F", "%41", "/..", "/.", "80", ":80", ":0", ":99999", "0", "00"),
            *("1.2.3.4", "::1", "/32", "/24", "/129", "a", "A", "xn--", "xn--bcher-kva", "é"),
            *("ü", "ß", "。", "\u3000", "ffff", "S", "999", "255", "example", "com", ".."),
        ]
    )
    | st.characters(codec=None, exclude_categories=("Cc", "Cs")),
    max_size=14,
).map("".join)


label = st.sampled_from(["evil", "EVIL", "a-b", "a_b", "xn--bcher-kva", "bücher", "ß", "x", "0"])
host = st.lists(label, min_size=1, max_size=3).map(".".join).map(lambda h: h + ".example")
defang = st.sampled_from(["", "[.]", "(.)", " . "])


def spelled(value: str, dot: str) -> str:
    return value.replace(".", dot, 1) if dot else value


ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(str)
mostly_valid = {
    "ipv4-addr": st.builds(
        spelled, ipv4 | st.builds("{}/{}".format, ipv4, st.integers(0, 33)), defang
    ),
    "ipv6-addr": ipv6
    | ipv6.map("[{}]".format)
    | st.builds("{}/{}".format, ipv6, st.integers(0, 129)),
    "domain-name": st.builds(spelled, host, defang) | host.map(lambda h: h.upper() + "."),
    "url": st.builds(
        "{}://{}{}{}".format,
        st.sampled_from(["http", "HTTPS", "hxxp", "ftp", "fxp"]),
        host | st.builds(spelled, host, defang) | ipv4 | ipv6.map("[{}]".format),
        st.sampled_from(["", ":80", ":0080", ":8080", ":65536", ":x"]),
        st.sampled_from(["", "/", "/a/./b/../c", "/%41%2e?q=%7e#f", "/a b", "/é"]),
    ),
    "email-addr": st.builds(
        "{}{}{}".format,
        st.sampled_from(["phish", "Bob.Smith+tag", "a" * 64, "a" * 65, "", "a b"]),
        st.sampled_from(["@", "[@]", "(at)", " [at] "]),
        st.builds(spelled, host, defang),
    ),
}


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(mostly_valid)), st.data())
def test_an_accepted_value_stays_valid_once_normalised(obj_type: str, data: st.DataObject) -> None:
    value = data.draw(mostly_valid[obj_type] | tricky_text)
    """What the network view and the exports carry is the normalised value: it must pass the
    same rules (else the publisher could not publish it)."""
    if observable_reason(obj_type, VALUE, value) is None:
        normalised = normalize_value(obj_type, VALUE, value)
        assert observable_reason(obj_type, VALUE, normalised) is None, normalised


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(["ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"]),
    st.text(max_size=40),
)
def test_any_text_gets_a_verdict_never_an_exception(obj_type: str, value: str) -> None:
    reason = observable_reason(obj_type, VALUE, value)
    assert reason is None or (isinstance(reason, str) and reason)
