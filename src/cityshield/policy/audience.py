"""Audience rows: who may see each stored object, as the policy in force decides.

Written at ingest for new objects and rewritten for all of them when the policy is reloaded
(``flows.policy``); the read predicates of ``policy.service`` join against them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlmodel import Session, col

from cityshield.bulk import insert_rows
from cityshield.policy.active import active_policy, effective_groups
from cityshield.policy.document import PolicyDocument
from cityshield.policy.engine import EVERYONE, Decision, Subject, audience_rows, decide, subject_of
from cityshield.policy.models import Audience
from cityshield.signing.models import SigningKey
from cityshield.store.collections import NETWORK_ALIAS
from cityshield.store.models import Collection, Member, MemberGroup, StixObject

_BATCH = 1000
_AUDIENCE = Audience.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PolicyState:
    """A policy plus the member facts decisions need, loaded once per batch."""

    document: PolicyDocument
    member_ids: dict[str, int]
    names: dict[int, str]
    identity_names: dict[str, str]
    groups: dict[str, frozenset[str]]

    hub_kids: frozenset[str]

    def subject(self, obj: dict[str, Any], submitter_id: int | None, kid: str | None) -> Subject:
        """The policy facts of a stored object. A hub-signed object stored on behalf of a
        member is that member's anonymous submission republished: it is shared as its
        markings say, as if the member had submitted it openly, under the hub's name."""
        name = self.names.get(submitter_id) if submitter_id is not None else None
        subject = subject_of(
            obj,
            submitter=name,
            submitter_groups=self.groups.get(name, frozenset()) if name else frozenset(),
            policy=self.document,
            identity_names=self.identity_names,
        )
        return replace(subject, anonymous=False) if kid in self.hub_kids else subject

    def rows(self, decision: Decision, submitter_id: int | None) -> list[tuple[str, bool]]:
        return audience_rows(decision, member_ids=self.member_ids, submitter_id=submitter_id)


def policy_state(session: Session, document: PolicyDocument | None = None) -> PolicyState:
    document = document or active_policy(session)
    members = session.execute(
        select(col(Member.id), col(Member.name), col(Member.identity_id))
    ).all()
    db_groups: dict[int, set[str]] = {}
    for member_id, group in session.execute(
        select(col(MemberGroup.member_id), col(MemberGroup.group))
    ):
        db_groups.setdefault(member_id, set()).add(group)
    return PolicyState(
        document=document,
        member_ids={name: member_id for member_id, name, _ in members},
        names={member_id: name for member_id, name, _ in members},
        identity_names={identity: name for _, name, identity in members},
        groups={
            name: effective_groups(name, db_groups.get(member_id, set()), document)
            for member_id, name, _ in members
        },
        hub_kids=frozenset(
            session.execute(
                select(col(SigningKey.kid)).where(col(SigningKey.member_id).is_(None))
            ).scalars()
        ),
    )


StoredItem = tuple[int, dict[str, Any], int | None, str | None]
"""(pk, object, submitter id, kid) of a stored object."""


def write_audience(session: Session, state: PolicyState, items: Iterable[StoredItem]) -> None:
    """Audience rows for stored objects. Hub publications with no member behind them are
    for every member."""
    rows: list[dict[str, Any]] = []
    public: list[int] = []
    for pk, obj, submitter_id, kid in items:
        if submitter_id is None:
            public.append(pk)
            continue
        decision = decide(state.subject(obj, submitter_id, kid), state.document)
        rows.extend(
            {"stix_pk": pk, "principal": principal, "allow": allow}
            for principal, allow in state.rows(decision, submitter_id)
        )
    insert_rows(session, _AUDIENCE, rows)
    write_public_audience(session, public)


def write_public_audience(session: Session, pks: Iterable[int]) -> None:
    """Hub publications meant for every member (its identity, extension-definitions)."""
    rows = [{"stix_pk": pk, "principal": EVERYONE, "allow": True} for pk in pks]
    insert_rows(session, _AUDIENCE, rows)


def recompute_audiences(session: Session, state: PolicyState) -> int:
    """Rewrite the audience of every stored object outside the network collection (network
    versions derive their visibility from their originals). Returns how many objects."""
    network_ids = select(col(Collection.id)).where(col(Collection.alias) == NETWORK_ALIAS)
    last_pk = 0
    total = 0
    while True:
        batch = session.execute(
            select(
                col(StixObject.pk),
                col(StixObject.body),
                col(StixObject.submitter_id),
                col(StixObject.kid),
            )
            .where(col(StixObject.pk) > last_pk, col(StixObject.collection_id).not_in(network_ids))
            .order_by(col(StixObject.pk))
            .limit(_BATCH)
        ).all()
        if not batch:
            return total
        pks = [row[0] for row in batch]
        session.execute(delete(Audience).where(col(Audience.stix_pk).in_(pks)))
        write_audience(
            session,
            state,
            [(pk, orjson.loads(body), submitter, kid) for pk, body, submitter, kid in batch],
        )
        total += len(batch)
        last_pk = pks[-1]
