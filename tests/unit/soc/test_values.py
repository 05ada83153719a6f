"""Reading pasted values: the type from the shape, and the canonical key ingest stores for
any spelling of the same IOC (the key a lookup finds it by)."""

from __future__ import annotations

import pytest

from cityshield.dedup.canonical import canonical_ioc
from cityshield.soc.values import guess_type, read_value

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("pasted", "pattern"),
    [
        ("198.51.100.7/32", "[ipv4-addr:value = '198.51.100.7']"),
        ("198[.]51[.]100[.]7", "[ipv4-addr:value = '198.51.100.7']"),
        ("198 . 51 . 100 . 7", "[ipv4-addr:value = '198.51.100.7']"),
        ("198.51.100.9/24", "[ipv4-addr:value = '198.51.100.0/24']"),
        ("2001:DB8:0:0::1", "[ipv6-addr:value = '2001:db8::1']"),
        ("TRAM-TICKET-UPDATE[.]EXAMPLE", "[domain-name:value = 'tram-ticket-update.example']"),
        ("Tram-Ticket-Update.Example.", "[domain-name:value = 'tram-ticket-update.example']"),
        ("hxxps://evil[.]example:443/a/./b", "[url:value = 'https://evil.example/a/b']"),
        ("HTTP://EVIL.example:80", "[url:value = 'http://evil.example/']"),
        ("Bob[@]Example[.]org", "[email-addr:value = 'bob@example.org']"),
        (SHA256.upper(), f"[file:hashes.'SHA-256' = '{SHA256}']"),
        (
            "D41D8CD98F00B204E9800998ECF8427E",
            "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
        ),
    ],
)
def test_a_pasted_value_finds_the_key_ingest_stored(pasted: str, pattern: str) -> None:
    reading = read_value(pasted)
    assert reading.problem is None
    assert canonical_ioc(pattern).key == reading.iocs[0].key


def test_a_hash_length_two_algorithms_share_is_looked_up_as_both() -> None:
    keys = [ioc.key for ioc in read_value(SHA256).iocs]
    assert keys == [f"file:hashes.'SHA-256'={SHA256}", f"file:hashes.'SHA3-256'={SHA256}"]


@pytest.mark.parametrize(
    ("pasted", "kind"),
    [("not a value", None), ("", None), ("x" * 5000, None), ("abc", None)],
)
def test_what_is_no_value_says_why(pasted: str, kind: str | None) -> None:
    reading = read_value(pasted)
    assert reading.observable_type == kind and reading.iocs == () and reading.problem


def test_a_type_given_overrides_the_shape() -> None:
    assert guess_type("evil.example") == "domain-name"
    assert read_value("evil.example", "url").iocs[0].key == "url:value=evil.example"
    assert read_value("evil.example", "mac-addr").problem
    assert read_value("abc", "file").problem
