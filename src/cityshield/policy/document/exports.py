"""Reading ``export:`` sections: the thresholds of what members' exports (their automated
blocking) contain, network-wide, per group and per member.

A threshold is a whole number within :data:`EXPORT_LIMITS`; anything else is an error at
its line, never a value silently clamped: a typo in ``min_members`` must not put every
single-city report on every firewall. Where a section is::

    export:                       # network-wide
      min_members: 2
      min_confidence: 70
      groups:
        water-utility: {min_confidence: 50}
    members:
      riverton:
        export: {min_members: 1}
"""

from __future__ import annotations

from yaml.nodes import Node

from cityshield.policy.document.model import EXPORT_KEYS, EXPORT_LIMITS, ExportScope, ExportSetting
from cityshield.policy.document.nodes import as_int, describe, is_null, line
from cityshield.policy.document.parsed import Ref
from cityshield.policy.document.values import ValueReader


class ExportReader(ValueReader):
    """Reads ``export:`` sections into ``out.exports``."""

    def network_export(self, node: Node) -> None:
        if is_null(node):
            return
        entries = self.mapping(node, "export", (*EXPORT_KEYS, "groups"))
        if entries is None:
            return
        groups = entries.pop("groups", None)
        self.thresholds(node, entries, "network", "", "export")
        if groups is None or is_null(groups[1]):
            return
        by_group = self.mapping(groups[1], "export groups", None) or {}
        for key_node, value_node in by_group.values():
            group = self.name(key_node, "group")
            if group is None:
                continue
            self.out.refs.append(Ref("group", group, line(key_node)))
            self.member_or_group_export(value_node, "group", group)

    def member_or_group_export(self, node: Node, scope: ExportScope, name: str) -> None:
        what = f"export of {scope} '{name}'"
        entries = self.mapping(node, what, EXPORT_KEYS)
        if entries is not None:
            self.thresholds(node, entries, scope, name, what)

    def thresholds(
        self,
        node: Node,
        entries: dict[str, tuple[Node, Node]],
        scope: ExportScope,
        name: str,
        what: str,
    ) -> None:
        if not entries:
            self.out.warn(line(node), f"{what} sets nothing (keys: {', '.join(EXPORT_KEYS)})")
        for key, (_, value_node) in entries.items():
            value = as_int(value_node)
            low, high = EXPORT_LIMITS[key]
            if value is None or not low <= value <= high:
                self.out.error(
                    line(value_node),
                    f"{key} in {what} must be a whole number from {low} to {high}, "
                    f"got {describe(value_node)}",
                )
                continue
            self.out.exports.append(
                ExportSetting(scope, name, key, value, line(value_node), self.out.path)
            )
