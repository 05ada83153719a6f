"""TAXII 2.1 endpoints (OASIS TAXII 2.1, sections 4 and 5).

Handlers parse the request, call one service function and shape the response; access
rules live in the policy layer and storage rules in the store.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from cityshield.db import release_connection
from cityshield.deps import CallerDep, HubDep, SessionDep, SettingsDep
from cityshield.errors import ApiRootNotFound
from cityshield.flows import deletion, ingest
from cityshield.members.caller import Caller
from cityshield.memory import TRIM_AFTER_BYTES, trim_heap
from cityshield.policy import service as policy
from cityshield.store.collections import get_collection_or_raise
from cityshield.store.filters import Filters
from cityshield.store.models import Collection
from cityshield.taxii import service as taxii_service
from cityshield.taxii.body import BodyLimits, parse_json, read_body
from cityshield.taxii.filters import parse_filters
from cityshield.taxii.media import (
    STIX_MEDIA_TYPE,
    TAXII_MEDIA_TYPE,
    require_acceptable,
    require_taxii_content,
)
from cityshield.taxii.responses import (
    envelope_response,
    manifest_response,
    status_body,
    taxii_json,
    versions_response,
)

API_ROOT = "api1"


def _accept(request: Request) -> None:
    require_acceptable(request.headers.get("accept"))


router = APIRouter(dependencies=[Depends(_accept)])


def _api_root(api_root: str) -> str:
    if api_root != API_ROOT:
        raise ApiRootNotFound(f"No API root {api_root!r}; this server has /{API_ROOT}/.")
    return api_root


ApiRootDep = Annotated[str, Depends(_api_root)]


def _filter_dep(*fields: str) -> Any:
    allowed = frozenset(fields)

    def dependency(request: Request, settings: SettingsDep) -> Filters:
        return parse_filters(
            request.query_params,
            allowed=allowed,
            default_limit=settings.page_size,
            max_limit=settings.max_page_size,
        )

    return Depends(dependency)


ObjectFilters = Annotated[Filters, _filter_dep("id", "type", "version", "spec_version")]
ByIdFilters = Annotated[Filters, _filter_dep("version", "spec_version")]
VersionFilters = Annotated[Filters, _filter_dep("spec_version")]


def _collection_body(collection: Collection, can_read: bool, can_write: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "can_read": can_read,
        "can_write": can_write,
        "media_types": [STIX_MEDIA_TYPE],
    }
    if collection.alias:
        body["alias"] = collection.alias
    return body


def api_root_url(public_url: str | None) -> str:
    """The API root's URL as discovery names it: under the configured public URL, else
    relative (TAXII 2.1 section 4.1.1 allows ``/api1/``; clients resolve it against the
    discovery URL). Never built from the request's Host header, which the client chooses:
    a forged Host would make the hub point other clients, or a cache, elsewhere."""
    if public_url is None:
        return f"/{API_ROOT}/"
    return f"{public_url.rstrip('/')}/{API_ROOT}/"


@router.get("/taxii2/")
def discovery(settings: SettingsDep, caller: CallerDep) -> Response:
    root = api_root_url(None if settings.public_url is None else str(settings.public_url))
    return taxii_json(
        {
            "title": settings.hub_name,
            "description": "TAXII 2.1 server of the cityshield threat-sharing hub.",
            "default": root,
            "api_roots": [root],
        }
    )


@router.get("/{api_root}/")
def api_root_information(
    api_root: ApiRootDep, settings: SettingsDep, caller: CallerDep
) -> Response:
    return taxii_json(
        {
            "title": f"{settings.hub_name}: cities",
            "description": "Indicators shared between the network's cities.",
            "versions": [TAXII_MEDIA_TYPE],
            "max_content_length": settings.max_content_length,
        }
    )


@router.get("/{api_root}/status/{status_id}/")
def get_status(
    api_root: ApiRootDep, status_id: str, session: SessionDep, caller: CallerDep
) -> Response:
    status = taxii_service.get_status_or_raise(session, caller=caller, status_id=status_id)
    return taxii_json(status_body(status))


@router.get("/{api_root}/collections/")
def get_collections(api_root: ApiRootDep, session: SessionDep, caller: CallerDep) -> Response:
    rows = taxii_service.list_collections(session, caller)
    body: dict[str, Any] = {}
    if rows:
        body["collections"] = [_collection_body(*row) for row in rows]
    return taxii_json(body)


@router.get("/{api_root}/collections/{collection_id}/")
def get_collection(
    api_root: ApiRootDep, collection_id: str, session: SessionDep, caller: CallerDep
) -> Response:
    collection = get_collection_or_raise(session, collection_id)
    can_read, can_write = policy.require_can_use(caller, collection)
    return taxii_json(_collection_body(collection, can_read, can_write))


@router.get("/{api_root}/collections/{collection_id}/manifest/")
def get_manifest(
    api_root: ApiRootDep,
    collection_id: str,
    filters: ObjectFilters,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    collection = get_collection_or_raise(session, collection_id)
    page = taxii_service.get_manifest(
        session, caller=caller, collection=collection, filters=filters
    )
    return manifest_response(page, STIX_MEDIA_TYPE)


@router.get("/{api_root}/collections/{collection_id}/objects/")
def get_objects(
    api_root: ApiRootDep,
    collection_id: str,
    filters: ObjectFilters,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    collection = get_collection_or_raise(session, collection_id)
    page = taxii_service.list_objects(
        session, caller=caller, collection=collection, filters=filters
    )
    return envelope_response(page)


def _writable_collection(session: Session, caller: Caller, collection_id: str) -> Collection:
    """The collection the caller may write to, with the session's connection handed back
    to the pool: the body has yet to arrive, and waiting for it must not hold one."""
    collection = get_collection_or_raise(session, collection_id)
    policy.require_can_write(caller, collection)
    release_connection(session)
    return collection


@router.post("/{api_root}/collections/{collection_id}/objects/", status_code=202)
async def add_objects(
    api_root: ApiRootDep,
    collection_id: str,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    settings: SettingsDep,
    hub: HubDep,
) -> Response:
    require_taxii_content(request.headers.get("content-type"))
    collection = await run_in_threadpool(_writable_collection, session, caller, collection_id)
    body = await read_body(request, BodyLimits.of(settings))
    size = len(body)
    envelope = await run_in_threadpool(parse_json, body)
    del body  # from here on only the parsed objects are needed

    def _ingest() -> dict[str, Any]:
        status = ingest.add_envelope(
            session,
            caller=caller,
            collection=collection,
            envelope=envelope,
            network=hub,
        )
        session.commit()
        return status_body(status)

    response = taxii_json(await run_in_threadpool(_ingest), status_code=202)
    if size >= TRIM_AFTER_BYTES:  # runs once the response is sent and the objects are freed
        response.background = BackgroundTask(trim_heap)
    return response


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/")
def get_object(
    api_root: ApiRootDep,
    collection_id: str,
    object_id: str,
    filters: ByIdFilters,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    collection = get_collection_or_raise(session, collection_id)
    page = taxii_service.get_object(
        session,
        caller=caller,
        collection=collection,
        object_id=object_id,
        filters=filters,
    )
    return envelope_response(page)


@router.delete("/{api_root}/collections/{collection_id}/objects/{object_id}/")
def delete_object(
    api_root: ApiRootDep,
    collection_id: str,
    object_id: str,
    filters: ByIdFilters,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    collection = get_collection_or_raise(session, collection_id)
    deletion.delete_object(
        session, caller=caller, collection=collection, object_id=object_id, filters=filters
    )
    session.commit()
    return Response(status_code=200, media_type=TAXII_MEDIA_TYPE)


@router.get("/{api_root}/collections/{collection_id}/objects/{object_id}/versions/")
def get_versions(
    api_root: ApiRootDep,
    collection_id: str,
    object_id: str,
    filters: VersionFilters,
    session: SessionDep,
    caller: CallerDep,
) -> Response:
    collection = get_collection_or_raise(session, collection_id)
    page = taxii_service.list_versions(
        session, caller=caller, collection=collection, object_id=object_id, filters=filters
    )
    return versions_response(page)
