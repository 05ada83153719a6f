"""List feeds: the sample files of the shipped definitions' exact formats parse into the
values a city's pattern of the same IOC would dedupe to."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityshield.dedup.canonical import canonical_ioc
from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.lists import parse_list
from cityshield.feeds.load import load_definitions
from cityshield.feeds.values import key_pattern, observable_type, value_key

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = load_definitions(ROOT / "feeds").feeds
SAMPLES = ROOT / "tests" / "data" / "feeds"

EXPECTED = {
    "urlhaus": (
        "urlhaus_recent.csv",
        {
            "url:value=http://198.51.100.124:34521/i",
            "url:value=https://cdn.bad-updates.test/payload/setup.exe",
            "url:value=http://203.0.113.77/bins/sora.arm7",
            "url:value=http://phish-login.test/owa/index.php?user=a,b",  # a quoted comma
        },
        1,
    ),
    "threatfox": (
        "threatfox_recent.csv",
        {
            "url:value=http://198.51.100.217/bins/x86",
            "ipv4-addr:value=203.0.113.9",  # ip:port stands for the address
            "domain-name:value=c2.stealer-panel.test",
            "file:hashes.'SHA-256'=0f9e3ca2c4bd7c4d1e6b4a7e1c95a4e0b8d4c3f2a1e0d9c8b7a6f5e4d3c2b1a0",
            "file:hashes.'MD5'=5d41402abc4b2a76b9719d911017c592",
        },
        1,
    ),
    "feodotracker": (
        "feodo_ipblocklist.csv",
        {
            "ipv4-addr:value=198.51.100.246",
            "ipv4-addr:value=203.0.113.150",
            "ipv4-addr:value=192.0.2.33",
        },
        0,
    ),
    "spamhaus-drop": (
        "spamhaus_drop.txt",
        {
            "ipv4-addr:value=198.51.100.0/24",
            "ipv4-addr:value=203.0.113.128/25",
            "ipv4-addr:value=192.0.2.0/26",
        },
        0,
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_samples_of_the_shipped_formats(name: str) -> None:
    sample, keys, rejected = EXPECTED[name]
    listed = parse_list(SHIPPED[name], (SAMPLES / sample).read_bytes())
    assert set(listed.keys.values()) == keys
    assert listed.rejected == rejected and len(listed.problems) == rejected
    for key in keys:  # the same IOC key a city's pattern gets, and a pattern that says it
        pattern, _ = key_pattern(key)
        assert canonical_ioc(pattern).key == key


def test_refusals_say_which_line_and_why() -> None:
    listed = parse_list(SHIPPED["urlhaus"], (SAMPLES / "urlhaus_recent.csv").read_bytes())
    assert listed.problems == [
        "line 14: 'not a url at all' is not a valid url: it contains whitespace (percent-encode it)"
    ]


def text_feed(**options: object) -> FeedDefinition:
    return FeedDefinition.model_validate(
        {
            "name": "t",
            "kind": "text",
            "url": "https://x.example/",
            "interval": 60,
            "tlp": "clear",
            "confidence": 1,
            **options,
        }
    )


def test_text_lines_comments_blanks_and_normal_forms() -> None:
    body = "# comment\n\n  EVIL.example.  \nhxxp://evil[.]example\n; kept: not a comment\n"
    listed = parse_list(text_feed(type="domain-name"), body.encode())
    assert set(listed.keys.values()) == {"domain-name:value=evil.example"}
    assert listed.lines == 3 and listed.rejected == 2


def test_a_bom_and_crlf_are_read() -> None:
    listed = parse_list(
        text_feed(type="ipv4-addr"), b"\xef\xbb\xbf198.51.100.1\r\n198.51.100.2\r\n"
    )
    assert set(listed.keys.values()) == {
        "ipv4-addr:value=198.51.100.1",
        "ipv4-addr:value=198.51.100.2",
    }


@pytest.mark.parametrize(
    ("spec", "raw", "key"),
    [
        ("ipv4-addr", "198.51.100.7/32", "ipv4-addr:value=198.51.100.7"),
        ("ipv4-addr", "198.51.100.7:8080", "ipv4-addr:value=198.51.100.7"),
        ("ipv6-addr", "[2001:DB8::1]:443", "ipv6-addr:value=2001:db8::1"),
        ("url", "HTTP://Evil.Example:80/a", "url:value=http://evil.example/a"),
        ("email-addr", "Bad@Evil.Example", "email-addr:value=bad@evil.example"),
        ("file:hashes.SHA1", "A" * 40, "file:hashes.'SHA-1'=" + "a" * 40),
    ],
)
def test_values_take_their_normal_form(spec: str, raw: str, key: str) -> None:
    assert value_key(observable_type(spec), raw) == key


@pytest.mark.parametrize(
    ("spec", "raw"),
    [("ipv4-addr", "999.1.1.1"), ("file:hashes.MD5", "abc"), ("domain-name", ""), ("url", "x")],
)
def test_invalid_values_are_refused(spec: str, raw: str) -> None:
    with pytest.raises(ValueError):
        value_key(observable_type(spec), raw)


def test_unknown_observable_types() -> None:
    with pytest.raises(ValueError, match=r"unknown observable type 'file:hashes\.SSDEEP'"):
        observable_type("file:hashes.SSDEEP")
