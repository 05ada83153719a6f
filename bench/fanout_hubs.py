"""The delivery section's hubs: city members, their push targets and webhooks registered
through the service functions ``cityshield member push-target`` and ``member webhook``
call, the same envelopes for two hubs, and whether a hub's worker has delivered everything.

Every city member has a TAXII target with ``--view network`` (its own network indicators,
as it reads them) and a webhook. A poster, a member of its own without either, submits
the realistic reports of ``bench.stix`` (TLP mix: GREEN for all, AMBER within the poster's
group, RED to one city), so what each city receives depends on what it may see, as in
production.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import orjson

from bench.network import ENVELOPE
from bench.receivers import COLLECTION, Fleet
from bench.stix import IOC, fresh_ioc, reports
from cityshield.db import session_scope
from cityshield.dedup.service import has_pending_publication
from cityshield.delivery.credentials import Credentials, cipher
from cityshield.delivery.source import high_water
from cityshield.delivery.targets import TargetSpec, list_targets, register_target
from cityshield.delivery.webhooks import register_webhook
from cityshield.members.service import caller_for, get_member_or_raise
from cityshield.store.collections import NETWORK_ALIAS, get_collection_by_alias
from cityshield.timefmt import now_micros
from tests.utils.server import Hub, TestMember

GROUPS = ("north", "south")
POSTER = "reporter"


@dataclass(frozen=True)
class Members:
    poster: TestMember
    cities: list[TestMember]

    @property
    def recipients(self) -> list[str]:
        """Identity ids a RED report may name (one city each)."""
        return [city.identity_id for city in self.cities]


def add_members(hub: Hub, cities: int) -> Members:
    """``cities`` members ``city-01``... in alternating groups, and the poster (south)."""
    members = [
        hub.member(name=f"city-{n:02d}", groups=[GROUPS[n % 2]]) for n in range(1, cities + 1)
    ]
    return Members(hub.member(name=POSTER, groups=["south"]), members)


def register_endpoints(
    hub: Hub, members: Members, fleet: Fleet, *, token: str, urgent_only: bool
) -> None:
    """Each city's TAXII target (``--view network``, ``--token``) and webhook, as the CLI
    registers them; each webhook's secret, shown once, goes to its receiver."""
    fernet = cipher(hub.settings.home, hub.settings.delivery_secret_key)
    secrets: dict[str, str] = {}
    with session_scope(hub.engine) as session:
        for city, api_root, hook in zip(members.cities, fleet.taxii, fleet.hooks, strict=True):
            spec = TargetSpec(
                url=api_root,
                collection=COLLECTION,
                view=NETWORK_ALIAS,
                credentials=Credentials("token", None, token),
            )
            register_target(
                session, member_name=city.name, spec=spec, fernet=fernet, now_us=now_micros()
            )
            registered = register_webhook(
                session,
                member_name=city.name,
                url=hook,
                urgent_only=urgent_only,
                fernet=fernet,
                now_us=now_micros(),
            )
            assert registered.secret is not None
            secrets[hook] = registered.secret
    fleet.give_secrets(secrets)


def twin_envelopes(
    members: list[Members], count: int, rng: random.Random, size: int = ENVELOPE
) -> list[list[bytes]]:
    """``count`` envelopes of ``size`` reports for each hub's poster, the same on every hub:
    the same IOCs, TLP levels and RED recipients (the n-th city of each hub), in the same
    order; only the ids, the author's identity and the signatures differ. One list of
    serialised envelopes per hub."""
    bodies: list[list[bytes]] = [[] for _ in members]
    for _ in range(count):
        iocs = [fresh_ioc() for _ in range(size)]
        state = rng.getstate()
        for hub, side in enumerate(members):
            twin = random.Random()
            twin.setstate(state)  # the same draws of levels and recipients on every hub
            objects, _ = reports(
                side.poster,
                size,
                twin,
                repeats=[],
                recipients=side.recipients,
                fresh_source=_replay(iocs),
            )
            bodies[hub].append(orjson.dumps({"objects": objects}))
        rng.setstate(twin.getstate())
    return bodies


def _replay(iocs: list[IOC]) -> Any:
    return iter(iocs).__next__


def caught_up(hub: Hub) -> bool:
    """Whether the served worker has published everything queued and moved every target's
    cursor up to its member's newest network view (nothing left to send). Stops at the
    first target behind, so polling it while delivery runs costs the hub little."""
    with session_scope(hub.engine) as session:
        if has_pending_publication(session):
            return False
        network = get_collection_by_alias(session, NETWORK_ALIAS)
        tops: dict[str, int] = {}  # a member's TAXII target and webhook share its view
        for target, name in list_targets(session):
            if name not in tops:
                caller = caller_for(session, get_member_or_raise(session, name))
                tops[name] = high_water(session, caller=caller, collection=network)
            if target.cursor_us < tops[name]:
                return False
    return True


def wait_caught_up(hub: Hub, timeout_s: float, poll_s: float = 0.2) -> float | None:
    """Seconds until :func:`caught_up`, polled every ``poll_s``; None past ``timeout_s``."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout_s:
        if caught_up(hub):
            return time.perf_counter() - start
        time.sleep(poll_s)
    return None


def target_errors(hub: Hub) -> list[dict[str, Any]]:
    """Targets that are not active or failed at least once: what an operator's ``outbox
    list`` would show (a clean run has none)."""
    with session_scope(hub.engine) as session:
        return [
            {
                "member": name,
                "kind": target.kind,
                "state": target.state,
                "attempts": target.attempts,
                "last_error": target.last_error,
            }
            for target, name in list_targets(session)
            if target.state != "active" or target.last_error
        ]
