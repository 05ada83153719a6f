"""Admin endpoints for the sharing policy."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from cityshield.deps import CallerDep, SessionDep
from cityshield.members.service import caller_for_member
from cityshield.policy.explain import explain_object
from cityshield.policy.service import require_admin

router = APIRouter()


@router.get("/admin/policy/explain")
def get_explanation(
    session: SessionDep,
    caller: CallerDep,
    object_id: Annotated[str, Query(alias="object")],
    member: Annotated[str, Query()],
) -> Response:
    """Why a member may or may not see an object (admins only: it reveals audiences)."""
    require_admin(caller)
    viewer = caller_for_member(session, member)
    body = explain_object(session, object_id=object_id, viewer=viewer)
    return Response(orjson.dumps(body), media_type="application/json")
