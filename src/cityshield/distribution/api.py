"""HTTP exports for automation that cannot speak TAXII (firewalls, DNS filters)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response

from cityshield.deps import CallerDep, HubDep, SessionDep
from cityshield.distribution.export import blocklist

router = APIRouter()


@router.get("/export/blocklist")
def get_blocklist(
    session: SessionDep,
    caller: CallerDep,
    hub: HubDep,
    type: Annotated[str, Query(description="Observable type, e.g. ipv4-addr.")] = "ipv4-addr",
    format: Annotated[str, Query(pattern="^(txt|json)$")] = "txt",
) -> Response:
    values = blocklist(session, caller=caller, context=hub, observable_type=type)
    if format == "json":
        return Response(
            orjson.dumps({"type": type, "values": values}), media_type="application/json"
        )
    body = "".join(f"{value}\n" for value in values)
    return Response(body, media_type="text/plain; charset=utf-8")
