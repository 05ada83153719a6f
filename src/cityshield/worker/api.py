"""Admin endpoint for the background jobs' health."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response

from cityshield.deps import CallerDep, SessionDep, SettingsDep
from cityshield.jobs import registry
from cityshield.policy.service import require_admin
from cityshield.timefmt import now_micros
from cityshield.worker.service import list_job_health

router = APIRouter()


@router.get("/admin/jobs")
def get_jobs(session: SessionDep, caller: CallerDep, settings: SettingsDep) -> Response:
    """Each job's lease and last runs (admins only: errors may name internals)."""
    require_admin(caller)
    body = list_job_health(session, intervals=registry.intervals(settings), now_us=now_micros())
    return Response(orjson.dumps(body), media_type="application/json")
