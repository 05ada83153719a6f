"""The entry points: texts and files in, one document or every problem out."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityshield.policy.document import (
    DEFAULT_POLICY,
    PolicyError,
    check_policy_files,
    load_policies,
    parse_policies,
)
from tests.utils.policy_text import (
    write,
)


def test_parse_policies_reports_every_file() -> None:
    sources = [("a.yaml", "version: 1\ndefault_marking: red\n"), ("b.yaml", "version: 1\nx: 1\n")]
    with pytest.raises(PolicyError) as info:
        parse_policies(sources)
    assert [(p.path, p.line) for p in info.value.problems] == [("b.yaml", 2)]
    assert parse_policies(sources[:1]).default_marking == "red"
    assert parse_policies([]) == DEFAULT_POLICY


def test_check_reports_exactly_the_load_errors_plus_warnings(tmp_path: Path) -> None:
    first = write(
        tmp_path,
        "a.yaml",
        "version: 1\ndefault_marking: red\nrules:\n  - name: r\n    allow: {}\n",
    )
    second = write(tmp_path, "b.yaml", "version: 1\ndefault_marking: green\nbogus: 1\n")
    with pytest.raises(PolicyError) as info:
        load_policies([first, second])
    found = check_policy_files([first, second])
    assert [p for p in found if not p.is_warning] == info.value.problems
    assert [(Path(p.path).name, p.line) for p in found if p.is_warning] == [("a.yaml", 5)]
