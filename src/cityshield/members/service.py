"""Members: cities, analysts and admins, their groups and their API tokens.

A token is shown once, at creation or rotation, and stored only as a SHA-256 hash: tokens
are 256-bit random values, so a fast hash is enough (no password stretching needed), and
a stolen database does not hand out working credentials.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlmodel import Session, col

from cityshield.dedup.models import ViewPending
from cityshield.errors import BadRequest, Conflict, NotFound
from cityshield.members.caller import FEED_ROLE, ROLES, Caller
from cityshield.policy.active import active_policy, effective_groups
from cityshield.store.models import Member, MemberGroup
from cityshield.timefmt import now_micros

IDENTITY_NAMESPACE = uuid.UUID("6f1c3a52-3d1e-4c55-9a0e-c1d5e1e5a001")
"""Member identity ids are UUIDv5(namespace, name): stable across re-installs of a hub."""
FEED_PREFIX = "feed."
"""Names of feed principals start with this; no member may take such a name, so a city
can never be mistaken for a feed (or a feed for a city) in a policy rule or a report."""


@dataclass(frozen=True)
class NewCredentials:
    """What an admin hands to a new member, once."""

    name: str
    identity_id: str
    token: str


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def identity_id_for(name: str) -> str:
    return f"identity--{uuid.uuid5(IDENTITY_NAMESPACE, name)}"


def get_member(session: Session, name: str) -> Member | None:
    return session.execute(select(Member).where(col(Member.name) == name)).scalar_one_or_none()


def get_member_or_raise(session: Session, name: str) -> Member:
    member = get_member(session, name)
    if member is None:
        raise NotFound(f"No member named {name!r}.")
    return member


def create_member(
    session: Session, *, name: str, role: str = "member", groups: list[str] | None = None
) -> NewCredentials:
    """Add a member; the returned token is the only copy there will ever be."""
    name = name.strip()
    if not name or len(name) > 100 or ":" in name:
        raise BadRequest("A member name must be 1-100 characters without ':' (HTTP Basic user).")
    if name.startswith(FEED_PREFIX):
        raise BadRequest(f"Names starting with {FEED_PREFIX!r} are reserved for feeds.")
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}.")
    token = _new_token()
    member = _add_principal(session, name=name, role=role, token_hash=hash_token(token))
    _set_groups(session, member, groups or [])
    # The publisher builds its network views from what it may see.
    session.add(ViewPending(member_id=member.id or 0, next_ioc_id=0))
    session.flush()
    return NewCredentials(name=member.name, identity_id=member.identity_id, token=token)


def ensure_feed_principal(
    session: Session, *, feed_name: str, groups: list[str]
) -> tuple[Member, bool]:
    """The principal a feed submits as (created if missing), with exactly ``groups``; and
    whether an existing principal's groups changed (what it submitted is then shared with
    others: its audiences must be recomputed).

    It can never log in: its token hash is no SHA-256 output (so no token matches it) and
    :func:`caller_for_token` refuses the feed role anyway. It gets no network views: it
    never reads.
    """
    name = FEED_PREFIX + feed_name
    member = get_member(session, name)
    existed = member is not None
    if member is None:
        unmatchable = "!" + hashlib.sha256(name.encode()).hexdigest()[:63]
        member = _add_principal(session, name=name, role=FEED_ROLE, token_hash=unmatchable)
    elif member.role != FEED_ROLE:
        raise Conflict(f"A member named {name!r} exists and is not a feed.")
    changed = _set_groups(session, member, groups)
    session.flush()
    return member, existed and changed


def _add_principal(session: Session, *, name: str, role: str, token_hash: str) -> Member:
    if get_member(session, name) is not None:
        raise Conflict(f"A member named {name!r} already exists.")
    member = Member(
        name=name,
        identity_id=identity_id_for(name),
        role=role,
        token_hash=token_hash,
        created_us=now_micros(),
    )
    session.add(member)
    session.flush()
    assert member.id is not None  # assigned by the flush
    return member


def _set_groups(session: Session, member: Member, groups: list[str]) -> bool:
    """Make the member's groups exactly ``groups``; whether they changed."""
    wanted = set(groups)
    current = set(
        session.execute(
            select(col(MemberGroup.group)).where(col(MemberGroup.member_id) == member.id)
        ).scalars()
    )
    if current - wanted:
        session.execute(
            delete(MemberGroup).where(
                col(MemberGroup.member_id) == member.id,
                col(MemberGroup.group).in_(sorted(current - wanted)),
            )
        )
    for group in sorted(wanted - current):
        session.add(MemberGroup(member_id=member.id or 0, group=group))
    return wanted != current


def rotate_token(session: Session, *, name: str) -> NewCredentials:
    """Replace a member's token; the old one stops working at commit."""
    member = get_member_or_raise(session, name)
    if member.role == FEED_ROLE:
        raise BadRequest(f"{name!r} is a feed's principal; it never logs in.")
    token = _new_token()
    member.token_hash = hash_token(token)
    session.add(member)
    session.flush()
    return NewCredentials(name=member.name, identity_id=member.identity_id, token=token)


def remove_member(session: Session, *, name: str) -> None:
    """Remove a member and its groups. Objects it submitted stay (submitter becomes unknown)."""
    member = get_member_or_raise(session, name)
    if member.role == FEED_ROLE:
        raise BadRequest(f"{name!r} is a feed's principal; feeds are defined by their files.")
    session.execute(delete(MemberGroup).where(col(MemberGroup.member_id) == member.id))
    session.delete(member)
    session.flush()


def list_members(session: Session) -> list[tuple[Member, list[str]]]:
    members = session.execute(select(Member).order_by(Member.name)).scalars().all()
    groups = _groups_by_member(session)
    return [(member, groups.get(member.id or 0, [])) for member in members]


def _groups_by_member(session: Session) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for member_id, group in session.execute(
        select(col(MemberGroup.member_id), col(MemberGroup.group)).order_by(col(MemberGroup.group))
    ):
        result.setdefault(member_id, []).append(group)
    return result


def caller_for_token(session: Session, *, token: str, name: str | None = None) -> Caller | None:
    """The member a token belongs to (and, for HTTP Basic, whose name matches), or None."""
    member = session.execute(
        select(Member).where(col(Member.token_hash) == hash_token(token))
    ).scalar_one_or_none()
    if member is None or not member.active or member.role == FEED_ROLE:
        return None
    if name is not None and not secrets.compare_digest(member.name.encode(), name.encode()):
        return None
    return caller_for(session, member)


def caller_for_member(session: Session, name: str) -> Caller:
    """The Caller a member would be when it authenticates (groups merged with the policy)."""
    return caller_for(session, get_member_or_raise(session, name))


def caller_for(session: Session, member: Member) -> Caller:
    """The principal a member acts as: its groups merged with those the policy assigns."""
    groups = session.execute(
        select(col(MemberGroup.group)).where(col(MemberGroup.member_id) == member.id)
    ).scalars()
    policy = active_policy(session)
    return Caller(
        member_id=member.id or 0,
        name=member.name,
        role=member.role,
        identity_id=member.identity_id,
        groups=effective_groups(member.name, groups, policy),
        default_marking=policy.default_marking,
    )
