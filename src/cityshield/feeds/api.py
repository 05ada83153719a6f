"""Admin HTTP API for feeds: each feed's health (last pull, last error, what it added,
its cursor and HTTP validators). Admins only (403 for anyone else): errors and URLs name
the hub's sources and may carry their internals."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from cityshield.deps import CallerDep, SessionDep
from cityshield.feeds.models import FeedPublic
from cityshield.feeds.service import get_feed_health, list_feed_health
from cityshield.policy.service import require_admin

router = APIRouter(prefix="/api/v1", tags=["feeds"])
_ADMINS: dict[int | str, dict[str, Any]] = {403: {"description": "The caller is not an admin."}}


@router.get("/feeds", responses=_ADMINS)
def list_feeds(session: SessionDep, caller: CallerDep) -> list[FeedPublic]:
    """Every feed with its health: last pull (start, end, success), last error, what the
    last pull added, withdrew and refused, how many values it vouches for, when it is next
    due, its TAXII cursor and its ETag/Last-Modified (docs/feeds.md)."""
    require_admin(caller)
    return list_feed_health(session)


@router.get("/feeds/{name}", responses={**_ADMINS, 404: {"description": "No such feed."}})
def show_feed(name: str, session: SessionDep, caller: CallerDep) -> FeedPublic:
    """One feed's health."""
    require_admin(caller)
    return get_feed_health(session, name)
