"""YAML with line numbers: compose a text into nodes and read generic shapes from them.

The reader works on PyYAML's node tree rather than on loaded Python values because nodes keep
what an error message needs: the line, the tag YAML gave a scalar (``123`` and ``yes`` are not
strings: tell the author to quote them) and every key of a mapping (a duplicate key is an
error, not "last one wins"). Problems are recorded in a :class:`ParsedFile`, never raised.
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cityshield.policy.document.parsed import ParsedFile
from cityshield.policy.document.problems import suggest

Entries = dict[str, tuple[Node, Node]]
"""A mapping's entries by key: (key node, value node), both for their lines."""

_TAG = "tag:yaml.org,2002:"
_KINDS = {
    _TAG + "str": "a string",
    _TAG + "int": "an integer",
    _TAG + "float": "a number",
    _TAG + "bool": "a boolean",
    _TAG + "null": "nothing (null)",
    _TAG + "timestamp": "a date",
    _TAG + "binary": "binary data",
    _TAG + "merge": "a merge key (<<)",
}


def line(node: Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def describe(node: Node) -> str:
    """What a node is, for "expected X, got Y" messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    kind = _KINDS.get(node.tag, f"a value tagged {node.tag}")
    if node.tag == _TAG + "null" or not node.value:
        return kind
    value = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"{kind} {value!r}"


def quote_hint(node: Node) -> str:
    """YAML reads ``123``, ``yes`` or ``null`` as non-strings; tell the author to quote."""
    if isinstance(node, ScalarNode) and node.tag != _TAG + "str" and node.value:
        return f" (quote it: '{node.value}')"
    return ""


def is_str(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "str"


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "null"


def as_int(node: Node) -> int | None:
    """The integer a scalar tagged as one stands for (``0x1`` too), else None."""
    if isinstance(node, ScalarNode) and node.tag == _TAG + "int":
        return int(yaml.constructor.SafeConstructor().construct_yaml_int(node))
    return None


def compose(text: str, out: ParsedFile) -> Node | None:
    """The node tree of ``text`` (None when empty); a syntax error becomes a problem at its
    line, recorded in ``out``."""
    try:
        root: Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
        if exc.context and exc.problem and exc.context_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        out.error(mark.line + 1 if mark is not None else 1, message)
        return None
    except yaml.YAMLError as exc:  # e.g. a reader error: a character YAML does not allow
        position = getattr(exc, "position", None)
        at = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        out.error(at, f"YAML error: {exc}")
        return None
    return root


class NodeReader:
    """Reads mappings, lists and booleans, recording what is wrong in ``out``.

    Each method returns None when the node has the wrong shape, so that callers skip what
    they cannot read and go on to find the next problem.
    """

    def __init__(self, out: ParsedFile) -> None:
        self.out = out

    def mapping(self, node: Node, what: str, keys: tuple[str, ...] | None) -> Entries | None:
        """The entries of a mapping by key; ``keys`` None means any (name-like) keys."""
        if not isinstance(node, MappingNode):
            self.out.error(line(node), f"{what} must be a mapping, got {describe(node)}")
            return None
        entries: Entries = {}
        for key_node, value_node in node.value:
            if not is_str(key_node):
                self.out.error(
                    line(key_node),
                    f"keys in {what} must be strings, got {describe(key_node)}"
                    + quote_hint(key_node),
                )
                continue
            key = key_node.value
            if key in entries:
                first = line(entries[key][0])
                self.out.error(line(key_node), f"duplicate key '{key}' (first at line {first})")
                continue
            entries[key] = (key_node, value_node)
        if keys is not None:
            self.unknown_keys(entries, what, keys)
        return entries

    def unknown_keys(self, entries: Entries, what: str, keys: tuple[str, ...]) -> None:
        """Report and drop keys outside ``keys``: a misspelt key must not be ignored."""
        for key in [key for key in entries if key not in keys]:
            self.out.error(
                line(entries.pop(key)[0]),
                f"unknown key '{key}' in {what}; expected one of {', '.join(keys)}"
                + suggest(key, keys),
            )

    def sequence(self, node: Node, what: str, example: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.out.error(
                line(node), f"{what} must be a list such as {example}, got {describe(node)}"
            )
            return None
        return list(node.value)

    def boolean(self, node: Node, what: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "bool":
            return bool(yaml.constructor.SafeConstructor.bool_values[node.value.lower()])
        self.out.error(line(node), f"{what} must be true or false, got {describe(node)}")
        return None
