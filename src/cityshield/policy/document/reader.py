"""Reading one policy file: its text or bytes in, a :class:`ParsedFile` out, never raising.

This is the top of the document (``version``, ``default_marking``, ``groups``, ``members``);
rules are read by :class:`RuleReader`, export thresholds by :class:`ExportReader`. An
unreadable file is a problem for the file as a whole (line 0), so a missing file among
several is reported with the others' problems.
"""

from __future__ import annotations

from pathlib import Path

from yaml.nodes import Node

from cityshield.policy.document.exports import ExportReader
from cityshield.policy.document.model import POLICY_VERSION
from cityshield.policy.document.nodes import Entries, as_int, compose, describe, is_null, line
from cityshield.policy.document.parsed import ParsedFile, Ref
from cityshield.policy.document.rules import RuleReader

_TOP_KEYS = ("version", "default_marking", "groups", "members", "rules", "export")
_MEMBER_KEYS = ("anonymous", "export")


def read_text(text: str, path: str) -> ParsedFile:
    """Parse one policy text, collecting errors and warnings."""
    out = ParsedFile(path)
    root = compose(text, out)
    if not out.errors:
        PolicyReader(out).document(root)
    return out


def read_file(path: Path) -> ParsedFile:
    """Parse one file; unreadable files become a problem for the file as a whole (line 0)."""
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        problem = "policy file not found"
    except IsADirectoryError:
        problem = "is a directory, not a policy file"
    except OSError as exc:
        problem = f"cannot read policy file: {exc.strerror or exc}"
    except UnicodeDecodeError as exc:
        problem = f"policy file is not UTF-8 text (byte {exc.start})"
    else:
        return read_text(text, name)
    out = ParsedFile(name)
    out.error(0, problem)
    return out


class PolicyReader(ExportReader):
    """Reads the top-level keys of a document into ``out``."""

    def document(self, root: Node | None) -> None:
        if root is None:
            self.out.error(1, "the policy file is empty; it must start with 'version: 1'")
            return
        top = self.mapping(root, "the policy", None)
        if top is None:
            return
        if not self.version(root, top):
            return
        self.unknown_keys(top, "the policy", _TOP_KEYS)
        if "default_marking" in top:
            node = top["default_marking"][1]
            level = self.level(node, "default_marking")
            if level is not None:
                self.out.default_marking = (level, line(node))
        if "groups" in top:
            self.groups(top["groups"][1])
        if "members" in top:
            self.members(top["members"][1])
        if "rules" in top:
            RuleReader(self.out).rules(top["rules"][1])
        if "export" in top:
            self.network_export(top["export"][1])

    def version(self, root: Node, top: Entries) -> bool:
        """False when the file is of another version: its other keys would only add noise."""
        if "version" not in top:
            self.out.error(line(root), f"missing 'version: {POLICY_VERSION}' at the top")
            return True
        node = top["version"][1]
        value = as_int(node)
        if value is None:
            self.out.error(
                line(node), f"version must be the number {POLICY_VERSION}, got {describe(node)}"
            )
            return True
        if value == POLICY_VERSION:
            return True
        self.out.error(
            line(node),
            f"unsupported policy version {value}; this hub reads version {POLICY_VERSION}",
        )
        return False

    def groups(self, node: Node) -> None:
        if is_null(node):
            return
        entries = self.mapping(node, "groups", None)
        for key, (key_node, value_node) in (entries or {}).items():
            group = self.name(key_node, "group")
            members = self.names(value_node, f"group '{key}'", "member", null_ok=True)
            if group is not None:
                self.out.group_lines[group] = line(key_node)  # declared, even if broken
                if members is not None:
                    self.out.groups[group] = members

    def members(self, node: Node) -> None:
        if is_null(node):
            return
        entries = self.mapping(node, "members", None)
        for key, (key_node, value_node) in (entries or {}).items():
            member = self.name(key_node, "member")
            if member is not None:
                self.out.refs.append(Ref("member", member, line(key_node)))
            if is_null(value_node):
                continue
            settings = self.mapping(value_node, f"member '{key}'", _MEMBER_KEYS)
            if settings and "anonymous" in settings:
                flag_node = settings["anonymous"][1]
                flag = self.boolean(flag_node, f"anonymous for member '{key}'")
                if flag is not None and member is not None:
                    self.out.anonymous[member] = (flag, line(flag_node))
            if settings and "export" in settings and member is not None:
                self.member_or_group_export(settings["export"][1], "member", member)
