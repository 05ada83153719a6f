"""Any policy, written as an author could write it, parses back to itself."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityshield.policy.document import (
    TLP_LEVELS,
    ExportSetting,
    PolicyDocument,
    Rule,
    Selector,
    parse_policy,
)
from cityshield.policy.document.model import EXPORT_KEYS, EXPORT_LIMITS

NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}", fullmatch=True)


RULE_NAMES = st.text(
    st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cn", "Co"), blacklist_characters="\ufeff"
    ),
    min_size=1,
    max_size=40,
).filter(lambda s: s == s.strip() and s != "")


def selectors(*, everyone: bool) -> st.SearchStrategy[Selector]:
    return st.builds(
        Selector,
        st.frozensets(NAMES, max_size=3),
        st.frozensets(NAMES, max_size=3),
        st.booleans() if everyone else st.just(False),
    )


@st.composite
def rules(draw: st.DrawFn, name: str) -> Rule:
    effect = draw(st.sampled_from(["allow", "deny"]))
    return Rule(
        name=name,
        source=draw(st.none() | selectors(everyone=False)),
        markings=draw(st.none() | st.frozensets(st.sampled_from(TLP_LEVELS))),
        effect=effect,
        target=draw(selectors(everyone=effect == "allow")),
    )


@st.composite
def documents(draw: st.DrawFn) -> PolicyDocument:
    names = draw(
        st.lists(RULE_NAMES, max_size=5, unique_by=lambda n: " ".join(n.split()).casefold())
    )
    return PolicyDocument(
        default_marking=draw(st.sampled_from(TLP_LEVELS)),
        groups=draw(st.dictionaries(NAMES, st.frozensets(NAMES, max_size=4), max_size=3)),
        anonymous_members=draw(st.frozensets(NAMES, max_size=3)),
        rules=tuple(draw(rules(name)) for name in names),
        export_settings=draw(export_settings()),
    )


@st.composite
def export_settings(draw: st.DrawFn) -> tuple[ExportSetting, ...]:
    scopes = st.just(("network", "")) | st.tuples(st.sampled_from(["group", "member"]), NAMES)
    chosen = draw(st.lists(st.tuples(scopes, st.sampled_from(EXPORT_KEYS)), max_size=5))
    settings_ = {
        (scope, name, key): ExportSetting(scope, name, key, draw(st.integers(*EXPORT_LIMITS[key])))
        for (scope, name), key in chosen
    }
    return tuple(sorted(settings_.values(), key=lambda s: s.order))


def render(policy: PolicyDocument, *, white: bool, members_off: list[str]) -> dict[str, Any]:
    """The YAML data an author could write for ``policy`` (omitting what can be omitted)."""

    def level(value: str) -> str:
        return "white" if white and value == "clear" else value

    def selector(s: Selector) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if s.members:
            out["members"] = sorted(s.members)
        if s.groups:
            out["groups"] = sorted(s.groups)
        if s.everyone:
            out["everyone"] = True
        return out

    data: dict[str, Any] = {"version": 1, "default_marking": level(policy.default_marking)}
    data["groups"] = {g: sorted(ms) for g, ms in policy.groups.items()}
    data["members"] = {m: {"anonymous": True} for m in sorted(policy.anonymous_members)}
    data["members"].update({m: {"anonymous": False} for m in members_off})
    for setting in policy.export_settings:
        if setting.scope == "network":
            data.setdefault("export", {})[setting.key] = setting.value
        elif setting.scope == "group":
            groups = data.setdefault("export", {}).setdefault("groups", {})
            groups.setdefault(setting.name, {})[setting.key] = setting.value
        else:
            member = data["members"].setdefault(setting.name, {})
            member.setdefault("export", {})[setting.key] = setting.value
    data["rules"] = []
    for rule in policy.rules:
        item: dict[str, Any] = {"name": rule.name}
        if rule.source is not None:
            item["from"] = selector(rule.source)
        if rule.markings is not None:
            item["markings"] = [level(m) for m in sorted(rule.markings)]
        item[rule.effect] = selector(rule.target)
        data["rules"].append(item)
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    policy=documents(),
    style=st.sampled_from([None, True, False]),
    white=st.booleans(),
    off=st.lists(NAMES, max_size=2),
)
def test_round_trip(
    policy: PolicyDocument, style: bool | None, white: bool, off: list[str]
) -> None:
    members_off = [m for m in off if m not in policy.anonymous_members]
    text = yaml.safe_dump(
        render(policy, white=white, members_off=members_off),
        default_flow_style=style,
        sort_keys=False,
        width=60,
    )
    parsed = parse_policy(text, path="rt.yaml")
    assert parsed == policy
    # and each rule points at the line its name is written on
    lines = text.splitlines()
    for rule in parsed.rules:
        assert rule.path == "rt.yaml" and 1 <= rule.line <= len(lines)
        if style is False:
            assert lines[rule.line - 1].lstrip().startswith("- name:")
