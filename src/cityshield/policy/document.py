"""Sharing-policy files: load, validate and lint the YAML that decides who sees what.

Policies live as YAML files in ``policies/`` so that every change to who may see a city's
indicators is reviewed and version-controlled like code. This module only reads them: it turns
a file into an immutable :class:`PolicyDocument` or explains, line by line, why it cannot. The
engine (``policy.engine``) applies a document; the CLI calls :func:`check_policy_files`.

Format (version 1)::

    version: 1
    default_marking: amber      # TLP level of objects with no TLP marking
    groups:                     # merged with the groups set by `cityshield member add --group`
      water-utility: [northport, lakeside]
    members:
      lakeside:
        anonymous: true         # republish this member's submissions under the hub identity
    rules:                      # in file order; a deny always beats an allow
      - name: north shares AMBER with the water utilities
        from: {groups: [north]} # omitted = any submitter
        markings: [amber]       # omitted = every level
        allow: {groups: [water-utility]}   # members / groups / everyone: true
      - name: nothing from northport to southbay
        from: {members: [northport]}
        deny: {members: [southbay]}        # members / groups (no everyone)

Parsing is strict on purpose: a typo in a sharing policy must stop a reload rather than
silently share (or withhold) indicators, so unknown keys, wrong types and unknown TLP levels are
errors, and every error found is reported at once with its line. Findings that are legal but
probably wrong (a rule that can never apply, a name the hub does not know) are warnings, reported
only by :func:`check_policy_files`; their message starts with :data:`WARNING_PREFIX`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cityshield.errors import BadRequest

__all__ = [
    "DEFAULT_POLICY",
    "POLICY_VERSION",
    "TLP_LEVELS",
    "WARNING_PREFIX",
    "PolicyDocument",
    "PolicyError",
    "PolicyProblem",
    "Rule",
    "Selector",
    "check_policy_files",
    "load_policies",
    "load_policy",
    "merge_policies",
    "parse_policies",
    "parse_policy",
]

POLICY_VERSION = 1
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
"""TLP 2.0 levels, least to most restrictive. TLP 1.0 ``white`` is read as ``clear``."""
TLP_ALIASES = {"white": "clear"}
WARNING_PREFIX = "warning: "
"""Lint findings that do not stop a policy from loading start with this."""

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}")
"""Member and group names (matched in full)."""

_TOP_KEYS = ("version", "default_marking", "groups", "members", "rules")
_MEMBER_KEYS = ("anonymous",)
_RULE_KEYS = ("name", "from", "markings", "allow", "deny")
_SELECTOR_KEYS = ("members", "groups", "everyone")
_RESTRICTED = frozenset({"amber+strict", "red"})
_OPEN = frozenset({"clear", "green"})

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


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Selector:
    """A set of members: named members, members of named groups, or every member.

    Groups are resolved by the engine, because memberships also come from the database.
    """

    members: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    everyone: bool = False

    @property
    def is_empty(self) -> bool:
        """Selects nobody: a rule with an empty selector can never change anything."""
        return not (self.members or self.groups or self.everyone)


@dataclass(frozen=True)
class Rule:
    """One rule: for objects from ``source`` at ``markings``, widen or narrow the audience.

    ``line`` and ``path`` say where the rule was written (for ``policy explain`` and errors);
    they are not part of what the rule means, so equality ignores them.
    """

    name: str
    source: Selector | None  # None: any submitter
    markings: frozenset[str] | None  # None: every TLP level
    effect: Literal["allow", "deny"]
    target: Selector
    line: int = field(default=0, compare=False)
    path: str = field(default="<policy>", compare=False)


@dataclass(frozen=True)
class PolicyDocument:
    """A validated policy, or several merged. Immutable: the engine may cache decisions on it.

    ``groups`` maps group name to member names and adds to the memberships in the database;
    treat it as read-only. ``source`` is the file path, several joined with ", " after a
    merge, or ``"<default>"``; like rule lines it is provenance, not meaning, and is not
    compared (nor is ``default_marking_at``).
    """

    default_marking: str
    groups: dict[str, frozenset[str]] = field(hash=False)
    anonymous_members: frozenset[str]
    rules: tuple[Rule, ...]
    source: str = field(default="<policy>", compare=False)
    default_marking_at: tuple[str, int] | None = field(default=None, compare=False)
    """(path, line) where ``default_marking`` was written; None when a file left it unset,
    so that merging it with a file that does set it is no conflict."""


DEFAULT_POLICY = PolicyDocument(
    default_marking="amber",
    groups={},
    anonymous_members=frozenset(),
    rules=(),
    source="<default>",
)
"""What the hub applies without policy files: TLP semantics alone, unmarked objects AMBER."""


class PolicyProblem(NamedTuple):
    """One finding, pointing at a line (1-based; 0 means the file as a whole)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    @property
    def is_warning(self) -> bool:
        return self.message.startswith(WARNING_PREFIX)


class PolicyError(BadRequest):
    """A policy that cannot be used; ``problems`` holds every error found, not just the first."""

    title = "Invalid sharing policy"

    def __init__(self, problems: Iterable[PolicyProblem]) -> None:
        self.problems: list[PolicyProblem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems) or self.title)


# --------------------------------------------------------------------------- reading one file


class _Ref(NamedTuple):
    kind: Literal["member", "group"]
    name: str
    line: int


@dataclass
class _Parsed:
    """Everything read from one file, even when it has errors, so that a merge and the linter
    can still check what was readable."""

    path: str
    errors: list[PolicyProblem] = field(default_factory=list)
    warnings: list[PolicyProblem] = field(default_factory=list)
    default_marking: tuple[str, int] | None = None  # (level, line) when set explicitly
    groups: dict[str, set[str]] = field(default_factory=dict)
    group_lines: dict[str, int] = field(default_factory=dict)
    anonymous: dict[str, tuple[bool, int]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    rule_names: dict[str, tuple[str, int]] = field(default_factory=dict)  # key -> (name, line)
    refs: list[_Ref] = field(default_factory=list)

    def error(self, line: int, message: str) -> None:
        self.errors.append(PolicyProblem(self.path, line, message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(PolicyProblem(self.path, line, WARNING_PREFIX + message))

    def document(self) -> PolicyDocument:
        return PolicyDocument(
            default_marking=self.default_marking[0] if self.default_marking else "amber",
            groups={g: frozenset(ms) for g, ms in sorted(self.groups.items())},
            anonymous_members=frozenset(m for m, (on, _) in self.anonymous.items() if on),
            rules=tuple(self.rules),
            source=self.path,
            default_marking_at=(self.path, self.default_marking[1])
            if self.default_marking
            else None,
        )

    def facts(self) -> _MergeFacts:
        default = None
        if self.default_marking is not None:
            default = (self.default_marking[0], self.path, self.default_marking[1])
        names = [(key, name, self.path, line) for key, (name, line) in self.rule_names.items()]
        return _MergeFacts(default, names)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _describe(node: Node) -> str:
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


def _quote_hint(node: Node) -> str:
    """YAML reads ``123``, ``yes`` or ``null`` as non-strings; tell the author to quote."""
    if isinstance(node, ScalarNode) and node.tag != _TAG + "str" and node.value:
        return f" (quote it: '{node.value}')"
    return ""


def _is_str(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "str"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "null"


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _name_key(name: str) -> str:
    """Rule names collide when they differ only in case or spacing: they are read by people."""
    return " ".join(name.split()).casefold()


class _Reader:
    """Walks the YAML node tree of one file, recording problems instead of raising."""

    def __init__(self, out: _Parsed) -> None:
        self.out = out

    # -- generic shapes

    def mapping(
        self, node: Node, what: str, keys: tuple[str, ...] | None
    ) -> dict[str, tuple[Node, Node]] | None:
        """The entries of a mapping by key; ``keys`` None means any (name-like) keys."""
        if not isinstance(node, MappingNode):
            self.out.error(_line(node), f"{what} must be a mapping, got {_describe(node)}")
            return None
        entries: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not _is_str(key_node):
                self.out.error(
                    _line(key_node),
                    f"keys in {what} must be strings, got {_describe(key_node)}"
                    + _quote_hint(key_node),
                )
                continue
            key = key_node.value
            if key in entries:
                first = _line(entries[key][0])
                self.out.error(_line(key_node), f"duplicate key '{key}' (first at line {first})")
                continue
            entries[key] = (key_node, value_node)
        if keys is not None:
            self.unknown_keys(entries, what, keys)
        return entries

    def unknown_keys(
        self, entries: dict[str, tuple[Node, Node]], what: str, keys: tuple[str, ...]
    ) -> None:
        """Report and drop keys outside ``keys``: a misspelt key must not be ignored."""
        for key in [key for key in entries if key not in keys]:
            self.out.error(
                _line(entries.pop(key)[0]),
                f"unknown key '{key}' in {what}; expected one of {', '.join(keys)}"
                + _suggest(key, keys),
            )

    def sequence(self, node: Node, what: str, example: str) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.out.error(
                _line(node), f"{what} must be a list such as {example}, got {_describe(node)}"
            )
            return None
        return list(node.value)

    def boolean(self, node: Node, what: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == _TAG + "bool":
            return bool(yaml.constructor.SafeConstructor.bool_values[node.value.lower()])
        self.out.error(_line(node), f"{what} must be true or false, got {_describe(node)}")
        return None

    def name(self, node: Node, kind: Literal["member", "group"]) -> str | None:
        if not _is_str(node):
            self.out.error(
                _line(node),
                f"{kind} name must be a string, got {_describe(node)}{_quote_hint(node)}",
            )
            return None
        if not NAME_RE.fullmatch(node.value):
            self.out.error(
                _line(node),
                f"invalid {kind} name {node.value!r}: use letters, digits and _ . @ - "
                "(starting with a letter or digit, at most 100 characters)",
            )
            return None
        return node.value

    def names(
        self, node: Node, what: str, kind: Literal["member", "group"], *, null_ok: bool = False
    ) -> set[str] | None:
        """A list of member or group names; every one is remembered for the linter."""
        if null_ok and _is_null(node):
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
            self.out.refs.append(_Ref(kind, name, _line(item)))
            if name in found:
                self.out.warn(
                    _line(item), f"{kind} '{name}' listed twice in {what} (line {found[name]})"
                )
            found.setdefault(name, _line(item))
        return set(found) if ok else None

    def level(self, node: Node, what: str) -> str | None:
        if not _is_str(node):
            self.out.error(_line(node), f"{what} must be a TLP level, got {_describe(node)}")
            return None
        value = node.value
        if value in TLP_LEVELS:
            return value
        if value in TLP_ALIASES:
            return TLP_ALIASES[value]
        hint = ""
        bare = value.strip().lower().removeprefix("tlp:").strip()
        if bare in TLP_LEVELS or bare in TLP_ALIASES:
            hint = f"; write it as '{bare}'"
        self.out.error(
            _line(node),
            f"unknown TLP level {value!r} in {what}; expected one of "
            f"{', '.join(TLP_LEVELS)} (or white, read as clear){hint}",
        )
        return None

    # -- the document

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
                self.out.default_marking = (level, _line(node))
        if "groups" in top:
            self.groups(top["groups"][1])
        if "members" in top:
            self.members(top["members"][1])
        if "rules" in top:
            self.rules(top["rules"][1])

    def version(self, root: Node, top: dict[str, tuple[Node, Node]]) -> bool:
        """False when the file is of another version: its other keys would only add noise."""
        if "version" not in top:
            self.out.error(_line(root), f"missing 'version: {POLICY_VERSION}' at the top")
            return True
        node = top["version"][1]
        if isinstance(node, ScalarNode) and node.tag == _TAG + "int":
            value = yaml.constructor.SafeConstructor().construct_yaml_int(node)
            if value == POLICY_VERSION:
                return True
            self.out.error(
                _line(node),
                f"unsupported policy version {value}; this hub reads version {POLICY_VERSION}",
            )
            return False
        self.out.error(
            _line(node), f"version must be the number {POLICY_VERSION}, got {_describe(node)}"
        )
        return True

    def groups(self, node: Node) -> None:
        if _is_null(node):
            return
        entries = self.mapping(node, "groups", None)
        for key, (key_node, value_node) in (entries or {}).items():
            group = self.name(key_node, "group")
            members = self.names(value_node, f"group '{key}'", "member", null_ok=True)
            if group is not None:
                self.out.group_lines[group] = _line(key_node)  # declared, even if broken
                if members is not None:
                    self.out.groups[group] = members

    def members(self, node: Node) -> None:
        if _is_null(node):
            return
        entries = self.mapping(node, "members", None)
        for key, (key_node, value_node) in (entries or {}).items():
            member = self.name(key_node, "member")
            if member is not None:
                self.out.refs.append(_Ref("member", member, _line(key_node)))
            if _is_null(value_node):
                continue
            settings = self.mapping(value_node, f"member '{key}'", _MEMBER_KEYS)
            if settings and "anonymous" in settings:
                flag_node = settings["anonymous"][1]
                flag = self.boolean(flag_node, f"anonymous for member '{key}'")
                if flag is not None and member is not None:
                    self.out.anonymous[member] = (flag, _line(flag_node))

    def rules(self, node: Node) -> None:
        if _is_null(node):
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
            self.out.error(_line(node), f"{label} has no 'name' (every rule needs a unique name)")
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
            self.out.error(_line(node), f"{label} needs exactly one of 'allow' or 'deny'")
        elif len(effects) == 2:
            first, second = sorted(effects, key=lambda k: _line(entries[k][0]))
            self.out.error(
                _line(entries[second][0]),
                f"{label} has both 'allow' and 'deny' (other at line "
                f"{_line(entries[first][0])}); a rule has exactly one: split it in two",
            )
        else:
            effect = "allow" if effects[0] == "allow" else "deny"
            target = self.selector(
                entries[effect][1], f"'{effect}' of {label}", everyone_ok=effect == "allow"
            )
        if len(self.out.errors) > errors_before or name is None or target is None:
            return None
        rule = Rule(name, source, markings, effect, target, _line(node), self.out.path)
        self.lint_rule(rule, label, entries)
        return rule

    def rule_name(self, node: Node, label: str) -> str | None:
        if not _is_str(node) or not node.value.strip():
            self.out.error(
                _line(node),
                f"the name of {label} must be non-empty text, got {_describe(node)}"
                + _quote_hint(node),
            )
            return None
        name = node.value.strip()
        if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in name):
            self.out.error(_line(node), f"the name of {label} must be a single line of text")
            return None
        key = _name_key(name)
        if key in self.out.rule_names:
            first_name, first_line = self.out.rule_names[key]
            spelt = "" if first_name == name else f" as {first_name!r}"
            self.out.error(
                _line(node),
                f"duplicate rule name {name!r} (first used{spelt} at line {first_line})",
            )
            return None
        self.out.rule_names[key] = (name, _line(node))
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
                self.out.error(_line(key_node), f"'everyone' is not allowed in {what}: {hint}")
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
                    _line(item),
                    f"TLP level {level} listed twice in {what} (line {levels[level]}; "
                    "white is clear)",
                )
            else:
                levels[level] = _line(item)
        return frozenset(levels) if ok else None

    def lint_rule(self, rule: Rule, label: str, entries: dict[str, tuple[Node, Node]]) -> None:
        """Warnings for a valid rule that is probably not what its author meant."""
        line = rule.line
        target_line = _line(entries[rule.effect][1])
        if rule.source is not None and rule.source.is_empty:
            self.out.warn(_line(entries["from"][1]), f"{label} can never apply: 'from' is empty")
        if rule.markings is not None and not rule.markings:
            self.out.warn(
                _line(entries["markings"][1]), f"{label} can never apply: 'markings' is empty"
            )
        if rule.target.is_empty:
            verb = "can never apply" if rule.effect == "allow" else "has no effect"
            self.out.warn(target_line, f"{label} {verb}: '{rule.effect}' names nobody")
        if rule.target.everyone and (rule.target.members or rule.target.groups):
            self.out.warn(
                target_line, f"{label}: members and groups are redundant with 'everyone: true'"
            )
        if rule.effect == "allow":
            levels = set(TLP_LEVELS) if rule.markings is None else set(rule.markings)
            if rule.target.everyone and levels & _RESTRICTED:
                shown = ", ".join(sorted(level.upper() for level in levels & _RESTRICTED))
                self.out.warn(
                    line,
                    f"{label} shares {shown} objects with every member; those levels are for "
                    "named recipients only (limit it with 'markings')",
                )
            elif levels and levels <= _OPEN:
                self.out.warn(
                    line,
                    f"{label} has no effect: CLEAR and GREEN objects are already visible to "
                    "every member",
                )


def _parse(text: str, path: str) -> _Parsed:
    """Read one policy text, collecting errors and warnings; never raises."""
    out = _Parsed(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
        if exc.context and exc.problem and exc.context_mark is not None:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
        out.error(mark.line + 1 if mark is not None else 1, message)
        return out
    except yaml.YAMLError as exc:  # e.g. a reader error: a character YAML does not allow
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        out.error(line, f"YAML error: {exc}")
        return out
    _Reader(out).document(root)
    return out


def _read(path: Path) -> _Parsed:
    """Parse one file; unreadable files become a problem for the file as a whole (line 0)."""
    name = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        out = _Parsed(name)
        out.error(0, "policy file not found")
        return out
    except IsADirectoryError:
        out = _Parsed(name)
        out.error(0, "is a directory, not a policy file")
        return out
    except OSError as exc:
        out = _Parsed(name)
        out.error(0, f"cannot read policy file: {exc.strerror or exc}")
        return out
    except UnicodeDecodeError as exc:
        out = _Parsed(name)
        out.error(0, f"policy file is not UTF-8 text (byte {exc.start})")
        return out
    return _parse(text, name)


# --------------------------------------------------------------------------- merging


class _MergeFacts(NamedTuple):
    """What merging checks, readable from a document or from a file with errors alike."""

    default: tuple[str, str, int] | None  # (level, path, line) when set explicitly
    names: list[tuple[str, str, str, int]]  # (key, name, path, line) per rule


def _document_facts(document: PolicyDocument) -> _MergeFacts:
    default = None
    if document.default_marking_at is not None:
        default = (document.default_marking, *document.default_marking_at)
    names = [(_name_key(r.name), r.name, r.path, r.line) for r in document.rules]
    return _MergeFacts(default, names)


def _merge_problems(all_facts: Iterable[_MergeFacts]) -> list[PolicyProblem]:
    """What makes several policies unusable together: conflicting defaults, reused rule names."""
    problems: list[PolicyProblem] = []
    default: tuple[str, str, int] | None = None  # the first explicit one: (level, path, line)
    names: dict[str, tuple[str, str, int]] = {}  # key -> (name, path, line)
    for facts in all_facts:
        if facts.default is not None:
            level, path, line = facts.default
            if default is None:
                default = facts.default
            elif default[0] != level:
                problems.append(
                    PolicyProblem(
                        path,
                        line,
                        f"default_marking {level} conflicts with {default[0]} in "
                        f"{default[1]}:{default[2]}; all policy files must agree",
                    )
                )
        for key, name, path, line in facts.names:
            if key in names:
                other = names[key]
                problems.append(
                    PolicyProblem(
                        path,
                        line,
                        f"duplicate rule name {name!r} (first used"
                        + ("" if other[0] == name else f" as {other[0]!r}")
                        + f" in {other[1]}:{other[2]})",
                    )
                )
            else:
                names[key] = (name, path, line)
    return problems


def _repeated_files(parts: list[_Parsed]) -> list[PolicyProblem]:
    """The same file twice would double its rules: say so instead of two dozen name clashes."""
    seen: dict[str, str] = {}
    problems: list[PolicyProblem] = []
    for part in parts:
        try:
            resolved = str(Path(part.path).resolve())
        except (OSError, RuntimeError):
            resolved = part.path
        if resolved in seen:
            problems.append(PolicyProblem(part.path, 0, f"listed twice (as {seen[resolved]})"))
        seen.setdefault(resolved, part.path)
    return problems


def _merge(documents: list[PolicyDocument]) -> PolicyDocument:
    """Union groups and anonymous members, concatenate rules; problems are checked before."""
    if not documents:
        return DEFAULT_POLICY
    if len(documents) == 1:
        return documents[0]
    groups: dict[str, set[str]] = {}
    anonymous: set[str] = set()
    rules: list[Rule] = []
    for document in documents:
        for group, members in document.groups.items():
            groups.setdefault(group, set()).update(members)
        anonymous |= document.anonymous_members
        rules.extend(document.rules)
    explicit = next((d for d in documents if d.default_marking_at is not None), None)
    return PolicyDocument(
        default_marking=explicit.default_marking if explicit else "amber",
        groups={g: frozenset(ms) for g, ms in sorted(groups.items())},
        anonymous_members=frozenset(anonymous),
        rules=tuple(rules),
        source=", ".join(d.source for d in documents),
        default_marking_at=explicit.default_marking_at if explicit else None,
    )


def _combine(parts: list[_Parsed]) -> PolicyDocument:
    """Every file's errors plus merge problems, all at once; else the merged document."""
    errors = [problem for part in parts for problem in part.errors]
    errors += _repeated_files(parts)
    errors += _merge_problems(part.facts() for part in parts)
    if errors:
        raise PolicyError(_ordered(errors, [part.path for part in parts]))
    return _merge([part.document() for part in parts])


def _ordered(problems: list[PolicyProblem], paths: list[str]) -> list[PolicyProblem]:
    """File order first (as given), then line; stable for problems on the same line."""
    order = {path: index for index, path in reversed(list(enumerate(paths)))}
    return sorted(problems, key=lambda p: (order.get(p.path, len(order)), p.line))


# --------------------------------------------------------------------------- public API


def parse_policy(text: str, *, path: str = "<policy>") -> PolicyDocument:
    """Parse one policy text; raise :class:`PolicyError` listing every error found."""
    part = _parse(text, path)
    if part.errors:
        raise PolicyError(_ordered(part.errors, [path]))
    return part.document()


def load_policy(path: Path) -> PolicyDocument:
    """Load one policy file; a missing or unreadable file is a :class:`PolicyError` too."""
    return load_policies([path])


def load_policies(paths: list[Path]) -> PolicyDocument:
    """Load and merge several files (groups and anonymous members unioned, rules concatenated
    in the order given; ``default_marking`` must agree where set). No files: the default.

    Raises one :class:`PolicyError` with the problems of every file, not just the first."""
    return _combine([_read(Path(p)) for p in paths])


def parse_policies(sources: Iterable[tuple[str, str]]) -> PolicyDocument:
    """Like :func:`load_policies` for ``(path, text)`` pairs already read (e.g. from the
    database): every file's problems in one :class:`PolicyError`."""
    return _combine([_parse(text, path) for path, text in sources])


def merge_policies(documents: list[PolicyDocument]) -> PolicyDocument:
    """Merge parsed documents as :func:`load_policies` does; :class:`PolicyError` when their
    ``default_marking`` values conflict or two rules share a name. No documents: the default."""
    problems = _merge_problems(_document_facts(d) for d in documents)
    if problems:
        raise PolicyError(problems)
    return _merge(list(documents))


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
    parts = [_read(Path(p)) for p in paths]
    problems = [problem for part in parts for problem in part.errors + part.warnings]
    problems += _repeated_files(parts)
    problems += _merge_problems(part.facts() for part in parts)
    declared_groups = {group for part in parts for group in part.group_lines}
    anonymous_on = {
        member: (part.path, line)
        for part in parts
        for member, (on, line) in part.anonymous.items()
        if on
    }
    for part in parts:
        for member, (on, line) in part.anonymous.items():
            if not on and member in anonymous_on:
                where = "{}:{}".format(*anonymous_on[member])
                problems.append(
                    PolicyProblem(
                        part.path,
                        line,
                        f"{WARNING_PREFIX}member '{member}' is anonymous: false here but "
                        f"anonymous: true in {where}; true wins",
                    )
                )
        for ref in part.refs:
            if ref.kind == "member" and known_members is not None and ref.name not in known_members:
                problems.append(
                    PolicyProblem(
                        part.path,
                        ref.line,
                        f"{WARNING_PREFIX}unknown member '{ref.name}' (no such member in the hub)"
                        + _suggest(ref.name, known_members),
                    )
                )
            if (
                ref.kind == "group"
                and known_groups is not None
                and ref.name not in known_groups
                and ref.name not in declared_groups
            ):
                choices = known_groups | declared_groups
                problems.append(
                    PolicyProblem(
                        part.path,
                        ref.line,
                        f"{WARNING_PREFIX}unknown group '{ref.name}' (not declared under "
                        "'groups:' nor set by `cityshield member add --group`)"
                        + _suggest(ref.name, choices),
                    )
                )
    return _ordered(problems, [part.path for part in parts])
