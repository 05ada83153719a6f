"""The network scenario the served sections share: city members in two groups under a
sharing policy, stores of realistic reports filled in-process through the hub's ingest path
(feeding dedup, so the served worker publishes them), and where a member's network views
stand.

Objects are realistic city reports (:func:`bench.stix.reports`): TLP-marked, ~600 bytes of
signed content, a share of them repeating IOCs another member already reported, spelt
differently, so dedup has real corroboration to record, and the TLP mix (AMBER within a
group, RED to one recipient, a policy allow and deny) gives members different views of the
same IOC.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.hubs import store
from bench.stix import IOC, TLP_MIX, fresh_ioc, reports
from cityshield.db import session_scope
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.models import NetworkView
from cityshield.flows.policy import load_policy_files
from cityshield.store.collections import NETWORK_ALIAS, SUBMISSIONS_ALIAS, collection_id_for
from cityshield.timefmt import format_date_added
from tests.utils.server import Hub, TestMember

ENVELOPE = 500
SUBMISSIONS = collection_id_for(SUBMISSIONS_ALIAS)
NETWORK = collection_id_for(NETWORK_ALIAS)

CITIES = {
    "north": ["northport", "riverton", "hillcrest", "eastvale"],
    "south": ["lakeside", "southbay", "westport", "bayview"],
}
READER = "lakeside"
POLICY = """\
# The benchmark's sharing policy (bench/network.py): one allow for a group, one deny for a
# member, a third group from the policy file.
version: 1
default_marking: amber
groups:
  water-utility: [northport, lakeside, bayview]
rules:
  - name: north shares AMBER with the water-utility group
    from: {groups: [north]}
    markings: [amber]
    allow: {groups: [water-utility]}
  - name: lakeside never receives riverton's AMBER
    from: {members: [riverton]}
    markings: [amber]
    deny: {members: [lakeside]}
"""


def add_cities(hub: Hub) -> dict[str, TestMember]:
    """The eight city members of :data:`CITIES`, each with a registered signing key."""
    return {
        name: hub.member(name=name, groups=[group])
        for group, names in CITIES.items()
        for name in names
    }


def load_policy(hub: Hub, workdir: Path) -> None:
    """:data:`POLICY` through the hub's own loader, as ``cityshield policy load`` does."""
    path = workdir / "bench-policy.yaml"
    path.write_text(POLICY)
    with session_scope(hub.engine) as session:
        load_policy_files(session, [path])


def views_added_after(hub: Hub, member: TestMember) -> str | None:
    """The ``added_after`` at which ``member``'s next network view will show (its newest
    view's ``date_added``), so a watch starts at the present."""
    query = select(func.max(NetworkView.date_added_us)).where(
        NetworkView.member_id == member.member_id
    )
    with session_scope(hub.engine) as session:
        newest = session.execute(query).scalar_one()
    return None if newest is None else format_date_added(int(newest))


class Reporter:
    """Round-robin batches of reports by several members into ``submissions``, in-process;
    a share ``overlap`` of each batch repeats IOCs other members reported earlier. Keeps
    what was reported, so a store can be topped up later. ``mix`` and ``fresh_source``
    are :func:`bench.stix.reports`' (the TLP mix, where new IOCs come from)."""

    def __init__(
        self,
        hub: Hub,
        members: dict[str, TestMember],
        context: HubContext,
        rng: random.Random,
        overlap: float,
        *,
        mix: tuple[tuple[str, float], ...] = TLP_MIX,
        fresh_source: Callable[[], IOC] = fresh_ioc,
    ) -> None:
        self.hub, self.members, self.context = hub, members, context
        self.rng, self.overlap = rng, overlap
        self.mix, self.fresh_source = mix, fresh_source
        self.reported: list[tuple[str, IOC]] = []
        self._turn = 0

    def fill(self, count: int, batch: int = 1_000) -> dict[str, Any]:
        """Store ``count`` more reports; only ``add_objects`` is timed."""
        names = list(self.members)
        identities = {name: m.identity_id for name, m in self.members.items()}
        seconds = 0.0
        for start in range(0, count, batch):
            name = names[self._turn % len(names)]
            self._turn += 1
            size = min(batch, count - start)
            wanted = round(size * self.overlap)
            picks = self.rng.sample(self.reported, min(len(self.reported), 2 * wanted))
            repeats = [ioc for owner, ioc in picks if owner != name][:wanted]
            recipients = [identity for other, identity in identities.items() if other != name]
            objects, fresh = reports(
                self.members[name],
                size,
                self.rng,
                repeats=repeats,
                recipients=recipients,
                mix=self.mix,
                fresh_source=self.fresh_source,
            )
            began = time.perf_counter()
            store(self.hub, self.members[name], SUBMISSIONS, objects, self.context)
            seconds += time.perf_counter() - began
            self.reported.extend((name, ioc) for ioc in fresh)
        return {
            "objects": count,
            "batch": batch,
            "seconds": round(seconds, 2),
            "objects_per_s": round(count / seconds) if seconds else 0,
        }
