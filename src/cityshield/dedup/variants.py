"""Per-viewer network indicators: corroboration computed from only what the viewer may see.

When a viewer may see every original behind a stored network version, that stored,
hub-signed version is served as is. Otherwise the viewer gets this variant, built and signed
at read time from the contributions it may see, with the same id and version: counts,
confidence and contributing refs never include a report the viewer could not read.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select
from sqlmodel import Session

from cityshield.dedup.aggregate import corroborate
from cityshield.dedup.context import NetworkContext
from cityshield.dedup.models import NetworkIOC
from cityshield.dedup.publish import build_network_indicator
from cityshield.policy import service as policy
from cityshield.policy.caller import Caller


def variant_body(
    session: Session,
    *,
    caller: Caller,
    context: NetworkContext | None,
    object_id: str,
    version_us: int,
) -> str | None:
    """The viewer's variant of a network version, or None when nothing in it is visible."""
    if context is None:
        return None
    ioc = session.execute(
        select(NetworkIOC).where(NetworkIOC.indicator_id == object_id)
    ).scalar_one_or_none()
    if ioc is None or ioc.id is None:
        return None
    rows = list(session.execute(policy.counted_contributions([ioc.id], caller)).all())
    if not rows:
        return None
    summary = corroborate(
        rows,
        lifetime_us=context.lifetime_us(ioc.observable_type),
        now_us=version_us,
        default_marking=caller.default_marking,
    )
    variant = build_network_indicator(ioc, summary, context=context, modified_us=version_us)
    return orjson.dumps(variant).decode()
