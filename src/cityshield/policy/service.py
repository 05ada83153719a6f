"""The single point of control for who may read or write what.

Every read of STIX content starts from :func:`visible_objects`; every write calls
:func:`require_can_write`. An endpoint added later cannot leak data by forgetting a filter,
because there is no other way to get a query over stored objects: the predicates that
decide visibility live here and nowhere else.

Two kinds of collection:
- ordinary ones (``submissions`` and any other): an object is visible to its submitter, to
  admins, and to callers an audience row allows and no audience row denies;
- ``network``: every caller reads its own views (``dedup.views``), each built by the
  publisher from only the originals that caller may see, so nothing it receives depends on
  a report it may not see. The network-wide versions stay stored as the hub's record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlmodel import Session, col

from cityshield.bulk import chunks
from cityshield.dedup.models import Contribution, NetworkIOC, NetworkView
from cityshield.errors import Forbidden
from cityshield.members.caller import Caller
from cityshield.policy.engine import EVERYONE, group_principal, member_principal
from cityshield.policy.models import Audience
from cityshield.signing.models import SigningKey
from cityshield.stix.vocabulary import RESTRICTED_LEVELS
from cityshield.store.collections import NETWORK_ALIAS
from cityshield.store.models import Collection, StixObject


def _roles(csv: str) -> set[str]:
    return {role.strip() for role in csv.split(",") if role.strip()}


def can_read(caller: Caller, collection: Collection) -> bool:
    return caller.is_admin or caller.role in _roles(collection.read_roles)


def can_write(caller: Caller, collection: Collection) -> bool:
    return caller.is_admin or caller.role in _roles(collection.write_roles)


def require_can_read(caller: Caller, collection: Collection) -> None:
    if not can_read(caller, collection):
        raise Forbidden(f"'{caller.name}' may not read collection {collection.id}.")


def require_can_write(caller: Caller, collection: Collection) -> None:
    if not can_write(caller, collection):
        raise Forbidden(f"'{caller.name}' may not write to collection {collection.id}.")


def require_can_use(caller: Caller, collection: Collection) -> tuple[bool, bool]:
    """(can_read, can_write) for a collection the caller may read or write; Forbidden if neither."""
    readable, writable = can_read(caller, collection), can_write(caller, collection)
    if not (readable or writable):
        raise Forbidden(f"'{caller.name}' may not use collection {collection.id}.")
    return readable, writable


def require_admin(caller: Caller) -> None:
    if not caller.is_admin:
        raise Forbidden("This operation needs the admin role.")


def principals(caller: Caller) -> list[str]:
    """Everything an audience row can name this caller by."""
    return [EVERYONE, member_principal(caller.member_id)] + [
        group_principal(g) for g in sorted(caller.groups)
    ]


def not_quarantined(obj: Any = StixObject) -> ColumnElement[bool]:
    """Objects signed by a compromised key and received since the compromise stay hidden
    from every read path until an admin lifts the quarantine.

    The uncorrelated ``NOT IN`` comes first: the set of compromised key ids is read once
    per query (usually empty), and only an object signed by one of them pays the
    per-row probe for its date. The probe alone is the same predicate; the prefix cut a
    filtered 1,000-object page's query by a quarter on SQLite. (A NULL kid makes the
    ``NOT IN`` unknown, and the probe, matching no key, then decides: visible.)
    """
    compromised = SigningKey.compromised_since_us.is_not(None)  # type: ignore[union-attr]
    return or_(
        obj.kid.not_in(select(col(SigningKey.kid)).where(compromised)),
        ~exists().where(
            SigningKey.kid == obj.kid,
            compromised,
            obj.date_added_us >= SigningKey.compromised_since_us,
        ),
    )


def readable(caller: Caller, obj: Any = StixObject) -> ColumnElement[bool]:
    """Whether ``caller`` may see a stored object of an ordinary collection."""
    if caller.is_admin:
        return not_quarantined(obj)
    mine = principals(caller)
    allowed = exists().where(
        col(Audience.stix_pk) == obj.pk, col(Audience.principal).in_(mine), col(Audience.allow)
    )
    denied = exists().where(
        col(Audience.stix_pk) == obj.pk, col(Audience.principal).in_(mine), ~col(Audience.allow)
    )
    return and_(
        not_quarantined(obj), or_(obj.submitter_id == caller.member_id, and_(allowed, ~denied))
    )


@dataclass(frozen=True)
class Reader:
    """:func:`readable` for one caller, decided in Python over rows fetched once for many
    callers: the network publisher builds every member's views of a batch of IOCs from one
    read of their contributions (:func:`counted_for_readers`) and their originals'
    audience rows (:func:`audiences_of`), instead of one query per member.

    The same rule as :func:`readable`, which stays the reference (and the only form any
    read path uses); ``tests/integration/test_network_privacy.py`` checks that the two
    agree for every member on every stored original. Quarantine is not decided here: the
    rows come from a query that already leaves quarantined originals out.
    """

    member_id: int
    is_admin: bool
    principals: frozenset[str]

    @classmethod
    def of(cls, caller: Caller) -> Reader:
        return cls(caller.member_id, caller.is_admin, frozenset(principals(caller)))

    def may_read(self, submitter_id: int | None, audience: Iterable[tuple[str, bool]]) -> bool:
        """Whether this caller may read an original submitted by ``submitter_id`` whose
        audience rows are ``audience`` ((principal, allow) pairs)."""
        if self.is_admin or submitter_id == self.member_id:
            return True
        allowed = False
        for principal, allow in audience:
            if principal in self.principals:
                if not allow:
                    return False  # a deny for any of its principals wins
                allowed = True
        return allowed


def object_source(caller: Caller, collection: Collection) -> Any:
    """The table a caller reads a collection from: every member reads the ``network``
    collection from its own views (``NetworkView``, built only from what it may see);
    everything else comes from the stored objects. Both have the columns filters and
    keyset pages use."""
    if collection.alias == NETWORK_ALIAS:
        return NetworkView
    return StixObject


def visible_objects(caller: Caller, collection: Collection, *columns: Any) -> Select[Any]:
    """Base query for every STIX read: the rows of ``collection`` that ``caller`` may see.

    Raises Forbidden when the caller may not read the collection at all. Callers add
    filters, keyset bounds and ordering on top (over :func:`object_source`'s columns);
    they never start from a bare select. ``columns`` are named as StixObject's.
    """
    require_can_read(caller, collection)
    columns = columns or (StixObject.body,)
    source = object_source(caller, collection)
    if source is NetworkView:
        mapped = [getattr(NetworkView, _VIEW_COLUMNS.get(c.key, c.key)) for c in columns]
        return select(*mapped).where(
            col(NetworkView.member_id) == caller.member_id, col(NetworkView.state) != VIEW_HIDDEN
        )
    in_collection = col(StixObject.collection_id) == collection.id
    return select(*columns).where(in_collection, readable(caller, StixObject))


def own_network_views(caller: Caller, network: Collection, *columns: Any) -> Select[Any]:
    """The caller's own network view rows, hidden ones included: for readers that follow
    a member's views by ``date_added`` (export deltas and their ``ETag``) and must also
    learn that an IOC left the view. A hidden row may be said to be "no longer listed",
    never served with its body; a view is built only from what its member may see, so its
    rows (and their order) are that member's alone. Callers may join the IOC rows (its
    value and type: the view names them) on ``NetworkView.ioc_id``."""
    require_can_read(caller, network)
    return (
        select(*columns)
        .select_from(NetworkView)
        .where(col(NetworkView.member_id) == caller.member_id)
    )


_VIEW_COLUMNS = {"pk": "ioc_id"}
VIEW_HIDDEN = "hidden"
"""The state of a view row whose IOC its member can no longer see any report of."""
"""StixObject columns a view names otherwise."""


def contribution_counts(
    caller: Caller | None, default_marking: str, original: Any = StixObject
) -> ColumnElement[bool]:
    """Whether a contribution (joined to its ``original``) counts, for everyone (None) or
    for one caller.

    A contribution counts only while its original is readable: a quarantined one must not
    keep vouching for an IOC, and a viewer's corroboration is computed only from what that
    viewer may see. AMBER+STRICT and RED reports never enter aggregates; an unmarked one
    has the level the policy in force gives unmarked objects.
    """
    visible = not_quarantined(original) if caller is None else readable(caller, original)
    level = func.coalesce(Contribution.tlp, literal(default_marking))
    return and_(level.not_in(RESTRICTED_LEVELS), visible)


def counted_contributions(
    ioc_ids: list[int], caller: Caller | None = None, *, default_marking: str | None = None
) -> Select[Any]:
    """The contributions of these IOCs that count (see :func:`contribution_counts`), as
    plain rows (attribute access like the model, without ORM instances: publishing
    aggregates thousands of them per envelope)."""
    return (
        select(*Contribution.__table__.columns)  # type: ignore[attr-defined]
        .join(StixObject, col(StixObject.pk) == col(Contribution.stix_pk))
        .where(
            col(Contribution.ioc_id).in_(ioc_ids),
            contribution_counts(caller, _default(caller, default_marking)),
        )
    )


def counted_for_readers(ioc_ids: list[int], *, default_marking: str) -> Select[Any]:
    """The contributions of these IOCs that count for anyone (network-wide, see
    :func:`contribution_counts`), each with its original's submitter
    (``original_submitter_id``): which of them count for a given caller is then
    :meth:`Reader.may_read` over its original's audience rows."""
    return counted_contributions(ioc_ids, default_marking=default_marking).add_columns(
        col(StixObject.submitter_id).label("original_submitter_id")
    )


def audiences_of(session: Session, stix_pks: Sequence[int]) -> dict[int, list[tuple[str, bool]]]:
    """The audience rows of these stored objects: pk -> (principal, allow) pairs."""
    found: dict[int, list[tuple[str, bool]]] = {}
    for chunk in chunks(sorted(set(stix_pks))):
        query = select(col(Audience.stix_pk), col(Audience.principal), col(Audience.allow)).where(
            col(Audience.stix_pk).in_(chunk)
        )
        for pk, principal, allow in session.connection().execute(query).all():
            found.setdefault(pk, []).append((principal, bool(allow)))
    return found


def _default(caller: Caller | None, default_marking: str | None) -> str:
    if default_marking is not None:
        return default_marking
    if caller is None:
        raise ValueError("network-wide counting needs the policy's default marking")
    return caller.default_marking


def visible_network_iocs(
    caller: Caller, network: Collection, *conditions: ColumnElement[bool], columns: Any = ()
) -> Select[Any]:
    """Base query for reads of network IOC rows (exports, analyst views): only IOCs with at
    least one contribution the caller may see, so a hidden report cannot leak its value.

    ``conditions`` (over Contribution and its original's StixObject row) narrow which
    counted contribution must exist: one that matches them all ("reported by X at GREEN
    last week"). ``columns`` selects NetworkIOC columns instead of whole rows."""
    require_can_read(caller, network)
    counted = (
        select(col(Contribution.id))
        .join(StixObject, col(StixObject.pk) == col(Contribution.stix_pk))
        .where(
            col(Contribution.ioc_id) == col(NetworkIOC.id),
            contribution_counts(caller, caller.default_marking),
            *conditions,
        )
    )
    return select(*(columns or (NetworkIOC,))).where(exists(counted))


def visible_contributions(caller: Caller, network: Collection, *columns: Any) -> Select[Any]:
    """Base query for aggregates over every IOC (analyst statistics): the contributions
    that count for ``caller`` (:func:`contribution_counts`), joined to their originals.
    Callers group and count on top; nothing hidden from the caller enters a count."""
    require_can_read(caller, network)
    return (
        select(*columns)
        .select_from(Contribution)
        .join(StixObject, col(StixObject.pk) == col(Contribution.stix_pk))
        .where(contribution_counts(caller, caller.default_marking))
    )
