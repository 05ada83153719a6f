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

import math
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
    remaining = math.prod(1 - max(0, min(100, c)) / 100 for c in confidences)
    return round(100 * (1 - remaining))


def corroborate(
    contributions: list[Contribution],
    *,
    lifetime_us: int | None,
    now_us: int,
    default_marking: str,
) -> Corroboration:
    """Aggregate contributions into the IOC's corroboration at ``now_us``.

    With no countable contribution left (all withdrawn from view) the IOC is revoked.
    """
    if not contributions:
        return Corroboration(0, 0, 0, 0, now_us, now_us, None, (), (), None, "revoked")
    live = [c for c in contributions if not c.revoked]
    ends = [contribution_end_us(c, lifetime_us) for c in live]
    active = [c for c, end in zip(live, ends, strict=True) if end is None or end > now_us]
    counted = active or live or contributions
    expires = None if any(end is None for end in ends) else max(ends, default=None)  # type: ignore[type-var]
    if not live:
        state = "revoked"
    elif not active:
        state = "expired"
    else:
        state = "active"
    best: dict[int | None, int] = {}
    for c in counted:
        member = c.member_id
        best[member] = max(
            best.get(member, 0), DEFAULT_CONFIDENCE if c.confidence is None else c.confidence
        )
    tlps = [c.tlp or default_marking for c in counted]
    tlps = [t for t in tlps if t in TLP_ORDER]
    from_feeds = [c for c in counted if getattr(c, "from_feed", False)]
    feed_ids = {c.member_id for c in from_feeds}
    return Corroboration(
        member_count=len({c.member_id for c in counted} - feed_ids),
        report_count=sum(1 for c in counted if c.kind == "indicator"),
        sighting_count=sum(1 for c in counted if c.kind == "sighting"),
        confidence=noisy_or(best.values()),
        first_seen_us=min(c.first_seen_us for c in counted),
        last_seen_us=max(c.last_seen_us for c in counted),
        expires_us=expires,
        contributing_refs=tuple(sorted(c.object_id for c in counted if c.kind == "indicator")),
        indicator_types=tuple(
            sorted({t for c in counted for t in c.indicator_types.split(",") if t})
        ),
        tlp=max(tlps, key=TLP_ORDER.index) if tlps else None,
        state=state,
        next_end_us=min((end for end in ends if end is not None and end > now_us), default=None),
        urgent=any(getattr(c, "urgent", False) for c in counted),
        feed_count=len(feed_ids),
        feed_refs=tuple(sorted(c.object_id for c in from_feeds if c.kind == "indicator")),
    )
