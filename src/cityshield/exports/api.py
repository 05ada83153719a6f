"""HTTP exports: ``/api/v1/export/{format}`` for firewalls, DNS filters, IDS and SIEMs, and
the older ``/export/blocklist``, kept as an alias (docs/exports.md).

Authenticated like the TAXII API (HTTP Basic with the member's name and token, or Bearer);
every list is the caller's own. One route per format, so the OpenAPI document names each
one's media type; the query string is parsed by ``exports.query`` alone (unknown or
repeated parameters are a 400), and described here for OpenAPI.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from cityshield.deps import CallerDep, HubDep, SessionDep, SettingsDep
from cityshield.exports import service
from cityshield.exports.query import FORMATS, Format, parse_request
from cityshield.exports.render import MEDIA_TYPES
from cityshield.exports.values import ValueLimits

router = APIRouter(tags=["exports"])

_HEADERS = {
    "ETag": "The list's version: send it back in If-None-Match to get a 304 when unchanged.",
    "X-CityShield-Next-Since": "Token for since=: the next request gets what changed after this.",
    "X-CityShield-Count": "Entries (lines, objects, rows) in this body.",
    "X-CityShield-Total": "Entries the list holds without max.",
    "X-CityShield-Truncated": "true when max cut the list (then Total > Count).",
    "X-CityShield-Refused": "Values left out as unsafe for this format or too wide a range.",
    "X-CityShield-Removals": "With since: changed entries no longer in the list.",
    "X-CityShield-Removals-Omitted": "With since: removals this format cannot carry.",
}
_PARAMETERS: list[tuple[str, str, dict[str, Any]]] = [
    ("type", "Observable types, comma-separated (default per format).", {"type": "string"}),
    (
        "min_members",
        "Corroborated by at least this many members (default: the policy's export).",
        {"type": "integer", "minimum": 1, "maximum": 1000},
    ),
    (
        "min_confidence",
        "Aggregate confidence at least this (default: the policy's export).",
        {"type": "integer", "minimum": 0, "maximum": 100},
    ),
    (
        "tlp",
        "Most restrictive TLP level to include (clear, green, amber, amber+strict, red).",
        {"type": "string"},
    ),
    (
        "since",
        "Only what changed since: a token from X-CityShield-Next-Since or an RFC 3339 time.",
        {"type": "string"},
    ),
    (
        "max",
        "At most this many entries: most corroborated first, then most recently seen.",
        {"type": "integer", "minimum": 1},
    ),
    ("collapse", "Merge IP addresses into CIDR blocks (edl, suricata).", {"type": "boolean"}),
    ("url_form", "bare (host/path, no scheme or port) or full.", {"type": "string"}),
    ("category", "Suricata category id (1..60).", {"type": "integer", "minimum": 1}),
]
_DESCRIPTIONS: dict[Format, str] = {
    "edl": "External dynamic list (PAN-OS, FortiGate): one value per line.",
    "csv": "CSV with a header row: action, type, value, confidence, members, seen, tlp, id.",
    "stix": "A STIX 2.1 bundle of the caller's own network indicators, as signed.",
    "zeek": "A Zeek Intel framework file (#fields header, tab-separated).",
    "suricata": "A Suricata IP reputation file (ip,category,score).",
}


def _openapi(fmt: Format) -> dict[str, Any]:
    return {
        "parameters": [
            {"name": name, "in": "query", "required": False, "description": text, "schema": schema}
            for name, text, schema in _PARAMETERS
        ],
        "responses": {
            "200": {
                "description": _DESCRIPTIONS[fmt],
                "content": {MEDIA_TYPES[fmt]: {"schema": {"type": "string"}}},
                "headers": {
                    name: {"description": text, "schema": {"type": "string"}}
                    for name, text in _HEADERS.items()
                },
            },
            "304": {"description": "Not modified (If-None-Match named the current ETag)."},
            "400": {"description": "A bad parameter (TAXII error body)."},
            "401": {"description": "No or wrong credentials (TAXII error body)."},
            "403": {"description": "The caller may not read the network (TAXII error body)."},
        },
    }


def _limits(settings: SettingsDep) -> ValueLimits:
    return ValueLimits(settings.export_widest_ipv4, settings.export_widest_ipv6)


def _export_route(fmt: Format) -> None:
    def export(
        request: Request, session: SessionDep, caller: CallerDep, hub: HubDep, settings: SettingsDep
    ) -> Response:
        outcome = service.build_export(
            session,
            caller=caller,
            context=hub,
            request=parse_request(fmt, request.query_params.multi_items()),
            limits=_limits(settings),
            if_none_match=request.headers.get("if-none-match"),
        )
        if outcome.not_modified:
            return Response(status_code=304, headers=outcome.headers)
        return Response(outcome.body, media_type=outcome.media_type, headers=outcome.headers)

    router.add_api_route(
        f"/api/v1/export/{fmt}",
        export,
        methods=["GET"],
        name=f"export_{fmt}",
        summary=_DESCRIPTIONS[fmt],
        response_class=Response,
        openapi_extra=_openapi(fmt),
    )


for _format in FORMATS:
    _export_route(_format)


@router.get(
    "/api/v1/export/suricata/categories",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "id,short name,description"}},
)
def suricata_categories(
    caller: CallerDep,
    category: Annotated[int, Query(ge=1, le=60, description="The category id.")] = 1,
) -> Response:
    """The categories file that Suricata reputation files of ``category`` refer to."""
    return Response(
        service.suricata_categories(category=category), media_type="text/csv; charset=utf-8"
    )


@router.get("/export/blocklist", deprecated=True, response_class=Response)
def get_blocklist(
    session: SessionDep,
    caller: CallerDep,
    hub: HubDep,
    settings: SettingsDep,
    type: Annotated[str, Query(description="Observable type, e.g. ipv4-addr.")] = "ipv4-addr",
    format: Annotated[str, Query(pattern="^(txt|json)$")] = "txt",
) -> Response:
    """Alias of ``/api/v1/export/edl?type=TYPE&url_form=full`` (``format=json``: the same
    values as ``{"type", "values"}``); kept for the scripts that use it."""
    values = service.blocklist(
        session, caller=caller, context=hub, observable_type=type, limits=_limits(settings)
    )
    headers = {
        "Deprecation": "true",
        "Link": f'</api/v1/export/edl?type={type}&url_form=full>; rel="successor-version"',
    }
    if format == "json":
        body = orjson.dumps({"type": type, "values": values})
        return Response(body, media_type="application/json", headers=headers)
    text = "".join(f"{value}\n" for value in values)
    return Response(text, media_type="text/plain; charset=utf-8", headers=headers)
