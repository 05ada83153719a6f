"""The policy's scalar vocabulary read from YAML nodes: member and group names, TLP levels.

Names are checked against :data:`NAME_RE` and remembered as references, so that the linter can
warn about names the hub does not know; TLP levels accept TLP 1.0 ``white`` as ``clear`` and
hint at the spelling when an author writes ``AMBER`` or ``TLP:RED``.
"""

from __future__ import annotations

from typing import Literal

from yaml.nodes import Node

from cityshield.policy.document.model import NAME_RE, TLP_ALIASES, TLP_LEVELS
from cityshield.policy.document.nodes import NodeReader, describe, is_null, is_str, line, quote_hint
from cityshield.policy.document.parsed import Ref

Kind = Literal["member", "group"]


class ValueReader(NodeReader):
    """Adds names and TLP levels to the generic shapes."""

    def name(self, node: Node, kind: Kind) -> str | None:
        if not is_str(node):
            self.out.error(
                line(node),
                f"{kind} name must be a string, got {describe(node)}{quote_hint(node)}",
            )
            return None
        if not NAME_RE.fullmatch(node.value):
            self.out.error(
                line(node),
                f"invalid {kind} name {node.value!r}: use letters, digits and _ . @ - "
                "(starting with a letter or digit, at most 100 characters)",
            )
            return None
        return str(node.value)

    def names(self, node: Node, what: str, kind: Kind, *, null_ok: bool = False) -> set[str] | None:
        """A list of member or group names; every one is remembered for the linter."""
        if null_ok and is_null(node):
            return set()
        items = self.sequence(node, what, "[a, b]")
        if items is None:
            return None
        found: dict[str, int] = {}
        ok = True
        for item in items:
            name = self.name(item, kind)
            if name is None:
                ok = False
                continue
            self.out.refs.append(Ref(kind, name, line(item)))
            if name in found:
                self.out.warn(
                    line(item), f"{kind} '{name}' listed twice in {what} (line {found[name]})"
                )
            found.setdefault(name, line(item))
        return set(found) if ok else None

    def level(self, node: Node, what: str) -> str | None:
        if not is_str(node):
            self.out.error(line(node), f"{what} must be a TLP level, got {describe(node)}")
            return None
        value: str = node.value
        if value in TLP_LEVELS:
            return value
        if value in TLP_ALIASES:
            return TLP_ALIASES[value]
        hint = ""
        bare = value.strip().lower().removeprefix("tlp:").strip()
        if bare in TLP_LEVELS or bare in TLP_ALIASES:
            hint = f"; write it as '{bare}'"
        self.out.error(
            line(node),
            f"unknown TLP level {value!r} in {what}; expected one of "
            f"{', '.join(TLP_LEVELS)} (or white, read as clear){hint}",
        )
        return None
