"""The analyst REST API under ``/api/v1``, and ``/healthz``/``/readyz``.

Every route authenticates as TAXII does (HTTP Basic with the member's name and token, or a
Bearer token), is open to every role, and calls one ``soc.service`` function, which reads
through the sharing-policy layer: what a member, an analyst or an admin gets differs only
by what the policy lets each see (admins see everything but quarantined reports).

POST bodies are read as TAXII POSTs are: after authentication, with the database
connection handed back, within the hub's size and time bounds, duplicate keys refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPBasic, HTTPBearer
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from cityshield.db import release_connection
from cityshield.deps import CallerDep, HubDep, SessionDep, SettingsDep, app_state
from cityshield.errors import BadRequest, InvalidFilter
from cityshield.soc import service
from cityshield.soc.models import (
    Health,
    IndicatorDetail,
    LookupRequest,
    LookupResult,
    Readiness,
    RevocationRequest,
    RevocationResult,
    SearchPage,
    SightingReceipt,
    SightingRequest,
    StatsPublic,
    Tlp,
)
from cityshield.taxii.body import BodyLimits, parse_json, read_body
from cityshield.timefmt import parse_timestamp


class _DocumentedBasic(HTTPBasic):
    """HTTP Basic in the OpenAPI document (/docs's "Authorize"), checking nothing:
    authentication is ``deps.get_caller``'s, as for TAXII (FastAPI's own would refuse
    a member name that is not ASCII)."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


class _DocumentedBearer(HTTPBearer):
    """A Bearer token in the OpenAPI document, checking nothing (see _DocumentedBasic)."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


_DOCUMENTED_AUTH = [Depends(_DocumentedBearer()), Depends(_DocumentedBasic())]
router = APIRouter(prefix="/api/v1", tags=["analysts"], dependencies=_DOCUMENTED_AUTH)
health_router = APIRouter(tags=["health"])
Model = TypeVar("Model", bound=BaseModel)
Sort = Literal[
    "value",
    "-value",
    "first_seen",
    "-first_seen",
    "last_seen",
    "-last_seen",
    "members",
    "-members",
    "confidence",
    "-confidence",
]


async def _json_body(
    request: Request, session: SessionDep, caller: CallerDep, settings: SettingsDep
) -> Any:
    """The parsed body (None if empty), read once the caller is known and with no
    connection held."""
    del caller  # authenticated first: nobody unknown gets to send a body
    await run_in_threadpool(release_connection, session)
    body = await read_body(request, BodyLimits.from_settings(settings))
    return await run_in_threadpool(parse_json, body) if body.strip() else None


JsonBody = Annotated[Any, Depends(_json_body)]


def _model(model: type[Model], body: Any) -> Model:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise BadRequest(reasons) from None


def _body_schema(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """The OpenAPI request body of a route that reads its body itself (see _json_body)."""
    schema = {"schema": model.model_json_schema()}
    return {"requestBody": {"required": required, "content": {"application/json": schema}}}


def _time(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError:
        raise InvalidFilter(f"{name} must be an RFC 3339 timestamp.") from None


@router.get("/indicators", summary="Search indicators")
def search(
    session: SessionDep,
    caller: CallerDep,
    hub: HubDep,
    q: Annotated[
        str | None, Query(max_length=4096, description="exact value, any spelling")
    ] = None,
    prefix: Annotated[str | None, Query(max_length=1000)] = None,
    contains: Annotated[str | None, Query(max_length=1000)] = None,
    type: Annotated[str | None, Query(max_length=100, description="observable type")] = None,
    member: Annotated[str | None, Query(max_length=100, description="reported by")] = None,
    tlp: Tlp | None = None,
    min_members: Annotated[int | None, Query(ge=0, le=100_000)] = None,
    seen_after: Annotated[str | None, Query(description="RFC 3339")] = None,
    seen_before: Annotated[str | None, Query(description="RFC 3339")] = None,
    state: Literal["active", "expired", "revoked"] | None = None,
    sort: Sort = "-last_seen",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000, description="from `next`")] = None,
) -> SearchPage:
    """Indicators you may see, with the corroboration you may see, in keyset pages."""
    query = service.SearchQuery(
        value=q,
        prefix=prefix,
        contains=contains,
        observable_type=type,
        member=member,
        tlp=tlp,
        min_members=min_members,
        seen_after_us=_time("seen_after", seen_after),
        seen_before_us=_time("seen_before", seen_before),
        state=state,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return service.search_indicators(session, caller=caller, context=hub, query=query)


@router.post(
    "/lookup",
    summary="Bulk lookup",
    response_model=LookupResult,
    openapi_extra=_body_schema(LookupRequest),
)
def lookup(session: SessionDep, caller: CallerDep, hub: HubDep, body: JsonBody) -> Response:
    """Known or unknown, for each of up to 10,000 values in any spelling and any mix of
    types; known only from reports you may see."""
    request = _model(LookupRequest, body)
    result = service.lookup_values(
        session, caller=caller, context=hub, values=request.values, observable_type=request.type
    )
    # Serialised here: FastAPI would dump, re-validate and dump again 10,000 answers.
    return Response(result.model_dump_json(), media_type="application/json")


@router.get("/indicators/{ref}", summary="Indicator detail")
def detail(ref: str, session: SessionDep, caller: CallerDep, hub: HubDep) -> IndicatorDetail:
    """``ref``: an indicator's ``ref`` (32 hex digits) or the id of your network indicator."""
    return service.indicator_detail(session, caller=caller, context=hub, ref=ref)


@router.post(
    "/indicators/{ref}/sightings",
    status_code=201,
    summary="Report a sighting",
    openapi_extra=_body_schema(SightingRequest),
)
def sighting(
    ref: str, session: SessionDep, caller: CallerDep, hub: HubDep, body: JsonBody
) -> SightingReceipt:
    """A sighting, signed by the hub on your behalf, that corroborates like a report."""
    request = _model(SightingRequest, body)
    return service.report_sighting(session, caller=caller, context=hub, ref=ref, request=request)


@router.get("/reports/{object_id}/revocation", summary="The revoked version to sign")
def revocation(object_id: str, session: SessionDep, caller: CallerDep) -> dict[str, Any]:
    """The next version of your report, revoked and unsigned: sign it, then POST it to
    ``/revoke`` (404 for anything not yours)."""
    return service.revocation_template(session, caller=caller, object_id=object_id)


@router.post(
    "/reports/{object_id}/revoke",
    summary="Revoke your report",
    openapi_extra=_body_schema(RevocationRequest, required=False),
)
def revoke(
    object_id: str, session: SessionDep, caller: CallerDep, hub: HubDep, body: JsonBody
) -> RevocationResult:
    """Revoke your own report (404 for anything not yours)."""
    payload = _model(RevocationRequest, {} if body is None else body)
    return service.revoke_report(
        session, caller=caller, context=hub, object_id=object_id, signed=payload.object
    )


@router.get("/stats", summary="Submission statistics")
def stats(
    session: SessionDep,
    caller: CallerDep,
    since: Annotated[str | None, Query(description="RFC 3339; default 30 days ago")] = None,
    until: Annotated[str | None, Query(description="RFC 3339; default now")] = None,
) -> StatsPublic:
    """Reports and sightings you may see, per member, observable type and day."""
    return service.submission_stats(
        session, caller=caller, since_us=_time("since", since), until_us=_time("until", until)
    )


@health_router.get("/healthz", summary="Liveness")
def healthz() -> Health:
    """The process answers (no database work)."""
    return Health(status="ok")


@health_router.get("/readyz", summary="Readiness", responses={503: {"model": Readiness}})
def readyz(request: Request, response: Response) -> Readiness:
    """The database answers and its schema is at this code's newest migration; 503 if not."""
    ready = service.readiness(app_state(request).engine)
    if ready.status != "ready":
        response.status_code = 503
    return ready
