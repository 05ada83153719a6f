"""Writers' details their consumers depend on."""

from __future__ import annotations

from cityshield.exports.render import suricata_categories, suricata_score
from cityshield.exports.versions import etag_matches


def test_suricata_scores_stay_within_1_to_127() -> None:
    assert [suricata_score(c) for c in (0, 1, 50, 80, 100)] == [1, 1, 64, 102, 127]


def test_the_categories_file_is_id_short_name_description() -> None:
    assert suricata_categories(3) == "3,CityShield,cityshield network indicators\n"


def test_if_none_match_is_a_list_of_tags_compared_weakly() -> None:
    assert etag_matches('"a", W/"b"', '"b"')
    assert etag_matches("*", '"b"')
    assert not etag_matches('"a"', '"b"')
    assert not etag_matches(None, '"b"')
