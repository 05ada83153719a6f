"""Reloading the sharing policy: store it, recompute every audience, republish the network.

One transaction: a tightened policy applies to the next read on every replica, and the
network view, whose aggregates count only what each member may see, follows at the next
publication.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from cityshield.dedup.queue import mark_all_pending
from cityshield.policy.active import store_policy_files
from cityshield.policy.audience import PolicyState, policy_state, recompute_audiences
from cityshield.policy.document import PolicyDocument


def load_policy_files(session: Session, paths: list[Path]) -> PolicyState:
    """Make these files the policy in force and apply it to everything stored; returns the
    state it decides with (the document and every member's groups)."""
    return reapply_policy(session, store_policy_files(session, paths))


def reapply_policy(session: Session, document: PolicyDocument | None = None) -> PolicyState:
    """Recompute every audience under ``document`` (the policy in force if None) and queue
    the whole network for republication: after a new policy, or when the facts decisions
    depend on changed (a feed's groups, ``feeds/state.py``)."""
    state = policy_state(session, document)
    recompute_audiences(session, state)
    # What counts in each network aggregate may have changed (groups, default marking):
    # republish every IOC. Until then reads already apply the new policy to stored versions.
    mark_all_pending(session)
    return state
