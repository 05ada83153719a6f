"""Corroboration of one IOC, computed from the contributions a viewer may see.

Pure functions over contribution rows: the same code serves the network-wide view (all
contributions) and, with sharing policies, a per-viewer view (visible ones only).

Aggregated confidence is a noisy-OR over distinct members: each member counts once, with
the highest confidence among its active reports and sightings (50 when it gave none), and
``confidence = round(100 * (1 - prod(1 - c_m / 100)))``. Two members at 60 give 84; a member
repeating itself does not raise it. A member at 100 makes it 100; members at 0 add nothing.
A feed the hub pulls (docs/feeds.md) counts in the noisy-OR as one more source, at the
confidence its definition gives, but in ``feed_count`` rather than ``member_count``: a
reader asking how many cities saw an IOC must not count a public block list as one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cityshield.dedup.models import Contribution
from cityshield.stix.vocabulary import TLP_ORDER

DEFAULT_CONFIDENCE = 50


@dataclass(frozen=True)
class Corroboration:
    """What the network indicator of an IOC says about who confirmed it."""

    member_count: int
    report_count: int
    sighting_count: int
    confidence: int
    first_seen_us: int
    last_seen_us: int
    expires_us: int | None
    contributing_refs: tuple[str, ...]
    indicator_types: tuple[str, ...]
    tlp: str | None
    state: str  # active | revoked | expired
    next_end_us: int | None = None
    """When the next counted contribution stops counting: the aggregate changes then."""
    urgent: bool = False
    """A counted contribution was submitted urgent (and the hub honoured the mark)."""
    feed_count: int = 0
    """Distinct feeds among the counted contributions (not in ``member_count``)."""
    feed_refs: tuple[str, ...] = ()
    """The contributing original indicators that came from feeds."""


def contribution_end_us(contribution: Contribution, lifetime_us: int | None) -> int | None:
    """When a contribution stops vouching for the IOC: its valid_until, else last seen plus
    the observable type's lifetime, else never."""
    if contribution.valid_until_us is not None:
        return contribution.valid_until_us
    if lifetime_us is None:
        return None
    return contribution.last_seen_us + lifetime_us


def noisy_or(confidences: Iterable[int]) -> int:
    remaining = 1.0
    for c in confidences:
        remaining *= 1 - max(0, min(100, c)) / 100
    return round(100 * (1 - remaining))


_TLP_RANK = {level: rank for rank, level in enumerate(TLP_ORDER)}


def corroborate(
    contributions: list[Contribution],
    *,
    lifetime_us: int | None,
    now_us: int,
    default_marking: str,
) -> Corroboration:
    """Aggregate contributions into the IOC's corroboration at ``now_us``.

    With no countable contribution left (all withdrawn from view) the IOC is revoked.
    (One pass over the counted rows: the publisher aggregates every IOC for the network
    and again for each distinct set of rows members see, so this runs thousands of times
    a pass, mostly over one or two rows.)
    """
    if not contributions:
        return Corroboration(0, 0, 0, 0, now_us, now_us, None, (), (), None, "revoked")
    live: list[Contribution] = []
    active: list[Contribution] = []
    expires: int | None = None
    endless = False
    next_end: int | None = None
    for c in contributions:
        if c.revoked:
            continue
        live.append(c)
        end = contribution_end_us(c, lifetime_us)
        if end is None:
            endless = True
            active.append(c)
            continue
        if expires is None or end > expires:
            expires = end
        if end > now_us:
            active.append(c)
            if next_end is None or end < next_end:
                next_end = end
    counted = active or live or contributions
    if not live:
        state = "revoked"
    elif not active:
        state = "expired"
    else:
        state = "active"
    best: dict[int | None, int] = {}
    reports = sightings = 0
    first_seen, last_seen = counted[0].first_seen_us, counted[0].last_seen_us
    refs: list[str] = []
    feeds: set[int | None] = set()
    feed_refs: list[str] = []
    types: set[str] = set()
    tlp_rank = -1
    urgent = False
    for c in counted:
        confidence = DEFAULT_CONFIDENCE if c.confidence is None else c.confidence
        best[c.member_id] = max(best.get(c.member_id, 0), confidence)
        from_feed = bool(getattr(c, "from_feed", False))
        if from_feed:
            feeds.add(c.member_id)
        if c.kind == "indicator":
            reports += 1
            refs.append(c.object_id)
            if from_feed:
                feed_refs.append(c.object_id)
        elif c.kind == "sighting":
            sightings += 1
        first_seen = min(first_seen, c.first_seen_us)
        last_seen = max(last_seen, c.last_seen_us)
        if c.indicator_types:
            types.update(t for t in c.indicator_types.split(",") if t)
        tlp_rank = max(tlp_rank, _TLP_RANK.get(c.tlp or default_marking, -1))
        urgent = urgent or bool(getattr(c, "urgent", False))
    return Corroboration(
        member_count=len(best.keys() - feeds),
        report_count=reports,
        sighting_count=sightings,
        confidence=noisy_or(best.values()),
        first_seen_us=first_seen,
        last_seen_us=last_seen,
        expires_us=None if endless else expires,
        contributing_refs=tuple(sorted(refs)),
        indicator_types=tuple(sorted(types)),
        tlp=TLP_ORDER[tlp_rank] if tlp_rank >= 0 else None,
        state=state,
        next_end_us=next_end,
        urgent=urgent,
        feed_count=len(feeds),
        feed_refs=tuple(sorted(feed_refs)),
    )
