"""Network IOC rows: one per canonical key, found or created by the ingest that names it,
and read back as plain values by the publisher."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from cityshield.bulk import chunks, conflict_insert
from cityshield.dedup.canonical import CanonicalIOC
from cityshield.dedup.contributions import of_originals
from cityshield.dedup.models import Contribution, NetworkIOC, NetworkView

__all__ = ["IOCRow", "ensure_iocs", "ioc_for_reference", "key_digest", "load_iocs"]


def key_digest(key: str) -> bytes:
    """The indexed form of a canonical key: 128 bits of sha256 (collisions are out of
    reach; the index stays a third of the size of the hex digest's)."""
    return hashlib.sha256(key.encode()).digest()[:16]


def ensure_iocs(session: Session, found: Iterable[CanonicalIOC], now: int) -> dict[str, int]:
    """Find or create every IOC; returns canonical key -> IOC id.

    Known IOCs are looked up first, so only new ones pay for an insert; the insert is
    insert-if-absent, so concurrent writers of one key still create one row (a key another
    writer created in between is read back).
    """
    wanted = {key_digest(ioc.key): ioc for ioc in found}
    ids = _ioc_ids(session, list(wanted))
    missing = [wanted[h] for h in wanted if h not in ids]
    if missing:
        rows = [
            {
                "key_digest": key_digest(ioc.key),
                "key": ioc.key,
                "observable_type": ioc.observable_type,
                "value": ioc.value,
                "pattern": ioc.pattern,
                "state": "active",
                "created_us": now // 1000 * 1000,
            }
            for ioc in missing
        ]
        insert_new = conflict_insert(session, NetworkIOC)
        statement = insert_new.on_conflict_do_nothing(index_elements=["key_digest"])
        session.execute(statement, rows)  # no RETURNING: it costs 3x the insert itself
        ids.update(_ioc_ids(session, [key_digest(ioc.key) for ioc in missing]))
    return {wanted[h].key: ioc_id for h, ioc_id in ids.items()}


def _ioc_ids(session: Session, hashes: list[bytes]) -> dict[bytes, int]:
    """key_digest -> id of the IOCs already stored, in IN queries of at most 500."""
    found: dict[bytes, int] = {}
    for chunk in chunks(hashes):
        query = select(col(NetworkIOC.key_digest), col(NetworkIOC.id)).where(
            col(NetworkIOC.key_digest).in_(chunk)
        )
        found.update({h: ioc_id for h, ioc_id in session.execute(query)})
    return found


def ioc_for_reference(session: Session, ref: str, member_id: int | None = None) -> int | None:
    """The IOC a sighting is of: a network indicator (the network-wide one, or the one its
    submitter ``member_id`` reads in its own view, whose id differs when that member saw
    the IOC revoked and reported again at other times), or an original that contributes."""
    by_network = session.execute(
        select(col(NetworkIOC.id)).where(col(NetworkIOC.indicator_id) == ref)
    ).scalar_one_or_none()
    if by_network is not None:
        return int(by_network)
    if member_id is not None:
        by_view = session.execute(
            select(col(NetworkView.ioc_id)).where(
                col(NetworkView.member_id) == member_id, col(NetworkView.object_id) == ref
            )
        ).scalar_one_or_none()
        if by_view is not None:
            return int(by_view)
    by_original = session.execute(
        of_originals([ref], Contribution.ioc_id)
        .where(Contribution.kind == "indicator")
        .order_by(col(Contribution.version_us).desc())
        .limit(1)
    ).scalar_one_or_none()
    return int(by_original) if by_original is not None else None


@dataclass
class IOCRow:
    """An IOC as the publisher reads and updates it: plain values rather than an ORM
    instance, since it is read in one transaction (a snapshot) and written in another."""

    id: int
    key: str
    observable_type: str
    value: str | None
    pattern: str
    state: str
    generation: int
    indicator_id: str | None
    benign_reason: str | None
    expires_us: int | None
    created_us: int
    published_us: int | None


_ROW_COLUMNS = [NetworkIOC.__table__.c[name] for name in IOCRow.__dataclass_fields__]  # type: ignore[attr-defined]


def load_iocs(session: Session, ioc_ids: Sequence[int]) -> list[IOCRow]:
    """These IOCs, in id order (ids of IOCs that do not exist are skipped)."""
    rows: list[IOCRow] = []
    for chunk in chunks(sorted(set(ioc_ids))):
        query = select(*_ROW_COLUMNS).where(col(NetworkIOC.id).in_(chunk)).order_by("id")
        rows.extend(IOCRow(*row) for row in session.execute(query))
    return rows
