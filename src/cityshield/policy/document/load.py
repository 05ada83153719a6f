"""Entry points: policy texts or files in, one :class:`PolicyDocument` (or every problem) out."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cityshield.policy.document.lint import file_set_warnings
from cityshield.policy.document.merge import (
    combine,
    document_facts,
    merge_documents,
    merge_problems,
    set_problems,
)
from cityshield.policy.document.model import PolicyDocument
from cityshield.policy.document.problems import PolicyError, PolicyProblem, ordered
from cityshield.policy.document.reader import read_file, read_text


def parse_policy(text: str, *, path: str = "<policy>") -> PolicyDocument:
    """Parse one policy text; raise :class:`PolicyError` listing every error found."""
    part = read_text(text, path)
    if part.errors:
        raise PolicyError(ordered(part.errors, [path]))
    return part.document()


def load_policy(path: Path) -> PolicyDocument:
    """Load one policy file; a missing or unreadable file is a :class:`PolicyError` too."""
    return load_policies([path])


def load_policies(paths: list[Path]) -> PolicyDocument:
    """Load and merge several files (groups and anonymous members unioned, rules concatenated
    in the order given; ``default_marking`` must agree where set). No files: the default.

    Raises one :class:`PolicyError` with the problems of every file, not just the first."""
    return combine([read_file(Path(p)) for p in paths])


def parse_policies(sources: Iterable[tuple[str, str]]) -> PolicyDocument:
    """Like :func:`load_policies` for ``(path, text)`` pairs already read (e.g. from the
    database): every file's problems in one :class:`PolicyError`."""
    return combine([read_text(text, path) for path, text in sources])


def merge_policies(documents: list[PolicyDocument]) -> PolicyDocument:
    """Merge parsed documents as :func:`load_policies` does; :class:`PolicyError` when their
    ``default_marking`` values conflict or two rules share a name. No documents: the default."""
    problems = merge_problems(document_facts(d) for d in documents)
    if problems:
        raise PolicyError(problems)
    return merge_documents(list(documents))


def check_policy_files(
    paths: list[Path],
    *,
    known_members: set[str] | None = None,
    known_groups: set[str] | None = None,
) -> list[PolicyProblem]:
    """Lint policy files: every error :func:`load_policies` would raise, plus warnings.

    Warnings (message starts with :data:`WARNING_PREFIX`): names of members the hub does not
    know (when ``known_members`` is given), groups neither in ``known_groups`` nor declared in
    the files (when ``known_groups`` is given), rules that can never apply or change nothing,
    rules sharing RED or AMBER+STRICT with everyone, repeated entries, and a member marked
    ``anonymous: false`` in one file but ``true`` in another (true wins). Never raises.
    """
    parts = [read_file(Path(p)) for p in paths]
    problems = [problem for part in parts for problem in part.errors + part.warnings]
    problems += set_problems(parts)
    problems += file_set_warnings(parts, known_members=known_members, known_groups=known_groups)
    return ordered(problems, [part.path for part in parts])
