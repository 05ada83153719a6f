"""Export requests: parsing, refusals, and the member's policy defaults."""

from __future__ import annotations

import pytest

from cityshield.errors import InvalidFilter
from cityshield.exports.query import ExportRequest, parse_request, resolve, since_timestamp
from cityshield.policy.document import ExportDefaults


def test_a_request_names_only_what_it_was_given() -> None:
    request = parse_request(
        "edl", [("type", "ipv6-addr,ipv4-addr"), ("min_members", "2"), ("tlp", "WHITE")]
    )
    assert request == ExportRequest(
        format="edl", types=("ipv4-addr", "ipv6-addr"), min_members=2, tlp="clear"
    )


@pytest.mark.parametrize(
    "pairs",
    [
        [("bogus", "1")],
        [("max", "1"), ("max", "1")],
        [("max", " 3")],
        [("max", "0")],
        [("min_confidence", "-1")],
        [("type", "")],
        [("type", "ipv4-addr,")],
        [("tlp", "purple")],
        [("collapse", "maybe")],
        [("url_form", "tiny")],
        [("since", "")],
        [("category", "61")],
    ],
)
def test_refused(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidFilter):
        parse_request("edl", pairs)


def test_the_members_defaults_fill_what_the_request_leaves_out() -> None:
    defaults = ExportDefaults(min_members=2, min_confidence=70)
    query = resolve(ExportRequest(format="edl"), defaults)
    assert (query.min_members, query.min_confidence, query.types) == (
        2,
        70,
        ("ipv4-addr", "ipv6-addr"),
    )
    assert query.url_form == "bare" and query.tlp == "red"
    asked = resolve(ExportRequest(format="csv", min_members=1, min_confidence=0), defaults)
    assert (asked.min_members, asked.min_confidence, asked.url_form) == (1, 0, "full")


@pytest.mark.parametrize(
    "request_",
    [
        ExportRequest(format="edl", types=("ipv4-addr", "domain-name")),
        ExportRequest(format="suricata", types=("url",)),
        ExportRequest(format="zeek", collapse=True),
        ExportRequest(format="edl", types=("url",), collapse=True),
        ExportRequest(format="csv", category=2),
        ExportRequest(format="edl", since="2026-01-01T00:00:00Z", max=3),
    ],
)
def test_requests_that_make_no_sense_for_the_format(request_: ExportRequest) -> None:
    with pytest.raises(InvalidFilter):
        resolve(request_, ExportDefaults())


def test_since_is_a_timestamp_or_a_token() -> None:
    assert since_timestamp("2026-11-20T09:00:00Z") == 1_795_165_200_000_000
    assert since_timestamp("MTc5NjY1NTczMTk4Mzg5Njo") is None
    with pytest.raises(InvalidFilter):
        since_timestamp("2026-11-31Tlate")
