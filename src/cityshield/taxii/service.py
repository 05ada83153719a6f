"""TAXII-level operations that are not plain object reads: status resources."""

from __future__ import annotations

from sqlmodel import Session

from cityshield.errors import StatusNotFound
from cityshield.members.caller import Caller
from cityshield.store.models import Status


def get_status_or_raise(session: Session, *, caller: Caller, status_id: str) -> Status:
    """A status is its submitter's (and admins'); to anyone else it does not exist."""
    status = session.get(Status, status_id)
    if status is None or not (caller.is_admin or status.member_id == caller.member_id):
        raise StatusNotFound(f"No status {status_id!r}.")
    return status
