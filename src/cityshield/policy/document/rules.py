"""Reading the ``rules:`` list: names, ``from`` and ``allow``/``deny`` selectors, markings.

A rule with any error is dropped (its problems are reported), so a typo can never leave a
half-read rule that shares more, or less, than its author wrote.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from yaml.nodes import Node

from cityshield.policy.document.lint import rule_warnings
from cityshield.policy.document.model import Rule, Selector, rule_name_key
from cityshield.policy.document.nodes import describe, is_null, is_str, line, quote_hint
from cityshield.policy.document.values import ValueReader

_RULE_KEYS = ("name", "from", "markings", "allow", "deny")
_SELECTOR_KEYS = ("members", "groups", "everyone")


class RuleReader(ValueReader):
    """Reads rules into ``out.rules``, in file order."""

    def rules(self, node: Node) -> None:
        if is_null(node):
            return
        items = self.sequence(node, "rules", "[- name: ...]")
        for index, item in enumerate(items or [], start=1):
            rule = self.rule(item, index)
            if rule is not None:
                self.out.rules.append(rule)

    def rule(self, node: Node, index: int) -> Rule | None:
        errors_before = len(self.out.errors)
        entries = self.mapping(node, f"rule #{index}", _RULE_KEYS)
        if entries is None:
            return None
        label = f"rule #{index}"
        name: str | None = None
        if "name" not in entries:
            self.out.error(line(node), f"{label} has no 'name' (every rule needs a unique name)")
        else:
            name = self.rule_name(entries["name"][1], label)
            if name is not None:
                label = f"rule '{name}'"
        source: Selector | None = None
        if "from" in entries:
            source = self.selector(entries["from"][1], f"'from' of {label}", everyone_ok=False)
        markings: frozenset[str] | None = None
        if "markings" in entries:
            markings = self.markings(entries["markings"][1], label)
        effects = [key for key in ("allow", "deny") if key in entries]
        effect: Literal["allow", "deny"] = "allow"
        target: Selector | None = None
        if not effects:
            self.out.error(line(node), f"{label} needs exactly one of 'allow' or 'deny'")
        elif len(effects) == 2:
            first, second = sorted(effects, key=lambda k: line(entries[k][0]))
            self.out.error(
                line(entries[second][0]),
                f"{label} has both 'allow' and 'deny' (other at line "
                f"{line(entries[first][0])}); a rule has exactly one: split it in two",
            )
        else:
            effect = "allow" if effects[0] == "allow" else "deny"
            target = self.selector(
                entries[effect][1], f"'{effect}' of {label}", everyone_ok=effect == "allow"
            )
        if len(self.out.errors) > errors_before or name is None or target is None:
            return None
        rule = Rule(name, source, markings, effect, target, line(node), self.out.path)
        rule_warnings(self.out, rule, label, entries)
        return rule

    def rule_name(self, node: Node, label: str) -> str | None:
        if not is_str(node) or not node.value.strip():
            self.out.error(
                line(node),
                f"the name of {label} must be non-empty text, got {describe(node)}"
                + quote_hint(node),
            )
            return None
        name: str = node.value.strip()
        if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in name):
            self.out.error(line(node), f"the name of {label} must be a single line of text")
            return None
        key = rule_name_key(name)
        if key in self.out.rule_names:
            first_name, first_line = self.out.rule_names[key]
            spelt = "" if first_name == name else f" as {first_name!r}"
            self.out.error(
                line(node),
                f"duplicate rule name {name!r} (first used{spelt} at line {first_line})",
            )
            return None
        self.out.rule_names[key] = (name, line(node))
        return name

    def selector(self, node: Node, what: str, *, everyone_ok: bool) -> Selector | None:
        entries = self.mapping(node, what, _SELECTOR_KEYS)
        if entries is None:
            return None
        ok = True
        members: set[str] = set()
        groups: set[str] = set()
        everyone = False
        if "members" in entries:
            found = self.names(entries["members"][1], f"members of {what}", "member")
            ok = ok and found is not None
            members = found or set()
        if "groups" in entries:
            found = self.names(entries["groups"][1], f"groups of {what}", "group")
            ok = ok and found is not None
            groups = found or set()
        if "everyone" in entries:
            key_node, value_node = entries["everyone"]
            if not everyone_ok:
                hint = (
                    "omit 'from' to match any submitter"
                    if what.startswith("'from'")
                    else "a deny must name members or groups"
                )
                self.out.error(line(key_node), f"'everyone' is not allowed in {what}: {hint}")
                ok = False
            else:
                flag = self.boolean(value_node, f"everyone in {what}")
                ok = ok and flag is not None
                everyone = bool(flag)
        return Selector(frozenset(members), frozenset(groups), everyone) if ok else None

    def markings(self, node: Node, label: str) -> frozenset[str] | None:
        what = f"markings of {label}"
        items = self.sequence(node, what, "[amber, red]")
        if items is None:
            return None
        levels: dict[str, int] = {}
        ok = True
        for item in items:
            level = self.level(item, what)
            if level is None:
                ok = False
            elif level in levels:
                self.out.warn(
                    line(item),
                    f"TLP level {level} listed twice in {what} (line {levels[level]}; "
                    "white is clear)",
                )
            else:
                levels[level] = line(item)
        return frozenset(levels) if ok else None
