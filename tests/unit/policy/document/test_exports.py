"""``export:`` thresholds in policy files: parsing, errors at their lines, merging, lint,
and which threshold applies to a member."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityshield.policy.document import (
    DEFAULT_POLICY,
    ExportDefaults,
    PolicyError,
    check_policy_files,
    load_policies,
    parse_policy,
)
from tests.utils.policy_text import DEMO_GROUPS, DEMO_MEMBERS, doc, problems_of, write

THRESHOLDS = """
    version: 1
    export:
      min_members: 2
      min_confidence: 70
      groups:
        north: {min_confidence: 50}
        south: {min_confidence: 80, min_members: 3}
    members:
      riverton:
        export: {min_members: 1}
      lakeside:
        anonymous: false
    """


def test_which_threshold_applies_to_whom() -> None:
    policy = parse_policy(doc(THRESHOLDS))
    assert policy.export_defaults("riverton", {"north"}) == ExportDefaults(1, 50)
    assert policy.export_defaults("northport", {"north"}) == ExportDefaults(2, 50)
    assert policy.export_defaults("lakeside", {"north", "south"}) == ExportDefaults(3, 80), (
        "the strictest of its groups"
    )
    assert policy.export_defaults("eastfield", set()) == ExportDefaults(2, 70)
    assert DEFAULT_POLICY.export_defaults("anyone", {"north"}) == ExportDefaults(1, 0)


def test_errors_name_their_lines() -> None:
    found = problems_of(
        """
        version: 1
        export:
          min_members: 0
          min_confidence: high
          min_member: 2
          groups:
            north: {min_confidence: 101}
        members:
          riverton:
            export: {min_confidence: 2.5}
        """
    )
    assert [line for line, _ in found] == [3, 4, 5, 7, 10]
    assert "from 1 to 1000" in found[0][1] and "a string 'high'" in found[1][1]
    assert "did you mean 'min_members'" in found[2][1]
    assert "group 'north'" in found[3][1] and "member 'riverton'" in found[4][1]


def test_files_must_agree_on_a_threshold(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", "version: 1\nexport: {min_members: 2}\n")
    same = write(tmp_path, "b.yaml", "version: 1\nexport: {min_members: 2, min_confidence: 60}\n")
    other = write(
        tmp_path, "c.yaml", "version: 1\nexport:\n  groups:\n    north: {min_members: 4}\n"
    )
    merged = load_policies([first, same, other])
    assert merged.export_defaults("x", {"north"}) == ExportDefaults(4, 60)
    clash = write(tmp_path, "d.yaml", "version: 1\nexport: {min_members: 3}\n")
    with pytest.raises(PolicyError) as info:
        load_policies([first, clash])
    (problem,) = info.value.problems
    assert (problem.path, problem.line) == (str(clash), 2)
    assert "conflicts with 2 in" in problem.message


def test_lint_warns_of_unknown_names_empty_sections_and_unreachable_thresholds(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        """
        version: 1
        export:
          min_members: 7
          groups:
            nort: {}
        """,
    )
    found = check_policy_files([path], known_members=DEMO_MEMBERS, known_groups=DEMO_GROUPS)
    assert all(p.is_warning for p in found)
    assert any(p.line == 3 and "more than the 6 members" in p.message for p in found)
    assert any(p.line == 5 and "unknown group 'nort'" in p.message for p in found)
    assert any(p.line == 5 and "sets nothing" in p.message for p in found)
