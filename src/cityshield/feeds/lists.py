"""Reading a list feed's body: one value per line (``text``) or values in CSV columns.

Comment lines (a prefix such as ``#`` or ``;``) and blank lines are skipped; CSV fields may
be quoted (``"a,b"``, also after a space: ThreatFox writes ``"a", "b"``) and are trimmed.
A value that is not valid for its observable type (``999.1.1.1`` as an address) is
refused alone, counted and described, never guessed at: the rest of the list still counts.
The result is the set of canonical IOC keys the feed lists now, which is all a pull
compares with what the feed vouched for before.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.values import ObservableType, observable_type, value_key

MAX_PROBLEMS = 20
"""Refusals described per pull; the rest are only counted."""


def key_digest(key: str) -> bytes:
    """What a value is indexed by (keys may be URLs of kilobytes)."""
    return hashlib.sha256(key.encode()).digest()[:16]


@dataclass
class Listed:
    """What a list says now: canonical keys by digest, and what was refused."""

    keys: dict[bytes, str] = field(default_factory=dict)
    lines: int = 0
    rejected: int = 0
    problems: list[str] = field(default_factory=list)

    def refuse(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(f"line {line}: {reason}")

    def add(self, line: int, kind: ObservableType, raw: str) -> None:
        try:
            key = value_key(kind, raw)
        except ValueError as exc:
            self.refuse(line, str(exc))
            return
        self.keys[key_digest(key)] = key


def parse_list(definition: FeedDefinition, body: bytes) -> Listed:
    """The values of a ``text`` or ``csv`` feed's body."""
    text = body.decode("utf-8-sig", errors="replace")
    lines = _data_lines(text.splitlines(), definition.comment)
    if definition.kind == "text":
        return _text(lines, observable_type(definition.type or ""))
    return _csv(lines, definition)


def _data_lines(lines: Iterable[str], comment: str | None) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or (comment and stripped.startswith(comment)):
            continue
        yield number, line


def _text(lines: Iterable[tuple[int, str]], kind: ObservableType) -> Listed:
    listed = Listed()
    for number, line in lines:
        listed.lines += 1
        listed.add(number, kind, line)
    return listed


def _csv(lines: Iterable[tuple[int, str]], definition: FeedDefinition) -> Listed:
    listed = Listed()
    columns = definition.observable_columns()
    labels = definition.label_types()
    numbered = list(lines)
    if definition.header and numbered:
        numbered = numbered[1:]
    rows = csv.reader(
        (line for _, line in numbered), delimiter=definition.delimiter, skipinitialspace=True
    )
    for (number, _), row in zip(numbered, rows, strict=False):
        listed.lines += 1
        fields = [f.strip() for f in row]
        for kind, column in columns:
            value = fields[column] if column < len(fields) else ""
            if value:  # an empty cell: this row has no value of that type
                listed.add(number, kind, value)
        if definition.value_column is not None and definition.type_column is not None:
            _typed(listed, number, fields, definition.value_column, definition.type_column, labels)
    return listed


def _typed(
    listed: Listed,
    number: int,
    fields: list[str],
    value_column: int,
    type_column: int,
    labels: dict[str, ObservableType],
) -> None:
    """A row whose type is in a column of its own (ThreatFox's ``ioc_type``)."""
    if max(value_column, type_column) >= len(fields):
        listed.refuse(
            number, f"{len(fields)} fields; expected at least {max(value_column, type_column) + 1}"
        )
        return
    label = fields[type_column]
    kind = labels.get(label)
    if kind is None:
        listed.refuse(number, f"type {label!r} is not one the definition's types map")
        return
    listed.add(number, kind, fields[value_column])
