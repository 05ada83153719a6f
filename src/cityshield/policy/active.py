"""The sharing policy in force, kept in the database so every process applies the same one.

``cityshield policy load FILE...`` stores the files' text here, and ``flows.policy``
recomputes every stored object's audience in the same transaction: a tightened policy
applies to the next read, on every replica. Parsing is cached by the text, so reading the
policy in force costs one primary-key lookup.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import orjson
from sqlmodel import Session

from cityshield.policy.document import (
    DEFAULT_POLICY,
    PolicyDocument,
    PolicyError,
    PolicyProblem,
    parse_policies,
)
from cityshield.store.models import HubSetting

POLICY_SETTING = "policy"


@lru_cache(maxsize=8)
def _parse_sources(sources: tuple[tuple[str, str], ...]) -> PolicyDocument:
    if not sources:
        return DEFAULT_POLICY
    return parse_policies(list(sources))


def _stored_sources(session: Session) -> tuple[tuple[str, str], ...]:
    row = session.get(HubSetting, POLICY_SETTING)
    if row is None:
        return ()
    return tuple((item["path"], item["text"]) for item in orjson.loads(row.value))


def active_policy(session: Session) -> PolicyDocument:
    """The policy every decision uses now (the built-in default until one is loaded)."""
    return _parse_sources(_stored_sources(session))


def policy_fingerprint(session: Session) -> str:
    return hashlib.sha256(orjson.dumps(_stored_sources(session))).hexdigest()[:16]


def effective_groups(name: str, db_groups: Iterable[str], policy: PolicyDocument) -> frozenset[str]:
    """Groups set with ``member add --group`` plus those the policy file assigns."""
    from_policy = {group for group, members in policy.groups.items() if name in members}
    return frozenset(db_groups) | frozenset(from_policy)


def store_policy_files(session: Session, paths: list[Path]) -> PolicyDocument:
    """Parse and store policy files as the policy in force (PolicyError lists every problem
    found); ``flows.policy.load_policy_files`` also applies them to what is stored.

    Each file is read once: what is stored is exactly the text that was checked."""
    sources: list[tuple[str, str]] = []
    unreadable: list[PolicyProblem] = []
    for path in paths:
        try:
            sources.append((str(path), path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            unreadable.append(PolicyProblem(str(path), 0, f"cannot read the file: {exc}"))
    if unreadable:
        raise PolicyError(unreadable)
    document = _parse_sources(tuple(sources))
    value = orjson.dumps([{"path": p, "text": t} for p, t in sources]).decode()
    setting = session.get(HubSetting, POLICY_SETTING)
    if setting is None:
        session.add(HubSetting(key=POLICY_SETTING, value=value))
    else:
        setting.value = value
        session.add(setting)
    session.flush()
    return document
