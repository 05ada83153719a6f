"""The analyst pages, mounted under ``/ui`` with the rest of the page (``web.app``): each
route calls one function of ``soc.service``, the same the REST API (``soc.api``) calls,
and renders one template. What an analyst sees here is what ``/api/v1`` answers the
member, so the noninterference test's reads of those functions cover the pages too.

    GET  /search                               search (soc.search_indicators)
    GET  /lookup                               the bulk-lookup box
    POST /lookup                               its answers (soc.lookup_values)
    GET  /indicators/{ref}                     one indicator (soc.indicator_detail)
    POST /indicators/{ref}/sightings           report a sighting (soc.report_sighting)
    GET  /reports/{object_id}/revoke           how to revoke a report (soc.revocation_template)
    GET  /reports/{object_id}/revocation.json  the revoked version to sign, as a file
    POST /reports/{object_id}/revoke           revoke it (soc.revoke_report)

A search or a lookup the service refuses shows its form again with the reason (400); a
form that changes something answers with a redirect to the indicator's page (303, so a
reload does not post twice), whose notice says what happened.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from cityshield.deps import HubDep, SessionDep
from cityshield.errors import BadRequest
from cityshield.soc import service as soc_service
from cityshield.soc.lookup import MAX_VALUES
from cityshield.soc.values import LOOKUP_TYPES
from cityshield.web.cookies import SESSION_COOKIE, base_path
from cityshield.web.deps import SessionFormDep, SignedInDep, checked_form
from cityshield.web.inputs import (
    LIMITS,
    MATCHES,
    SORTS,
    SearchForm,
    indicator_ref,
    pasted_values,
    search_form,
    sighting_request,
    signed_revocation,
)
from cityshield.web.render import render
from cityshield.web.sessions import SignedIn

router = APIRouter()

SearchFormDep = Annotated[SearchForm, Depends(search_form)]
LookupFormDep = Annotated[dict[str, str], Depends(checked_form(SESSION_COOKIE, max_length=None))]
"""The bulk-lookup box: up to the hub's POST limit (``CITYSHIELD_MAX_CONTENT_LENGTH``),
like the API's lookup body; 10,000 values of a few hundred characters fit."""
RevokeFormDep = Annotated[dict[str, str], Depends(checked_form(SESSION_COOKIE, 256 * 1024))]
"""A signed revocation is one STIX object: far less than this."""
Ref = Annotated[str, Path(max_length=200)]
Notice = Annotated[str, Query(max_length=200)]
FORM_CHOICES: dict[str, Any] = {
    "matches": MATCHES,
    "sorts": SORTS,
    "limits": LIMITS,
    "types": (*LOOKUP_TYPES, "compound"),
    "max_values": MAX_VALUES,
}
"""What the forms offer, named once for every template."""


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request, form: SearchFormDep, session: SessionDep, signed: SignedInDep, hub: HubDep
) -> HTMLResponse:
    page, error = None, None
    if form.submitted:
        try:
            page = soc_service.search_indicators(
                session, caller=signed.caller, context=hub, query=form.query()
            )
        except BadRequest as exc:
            error = exc.description
    return _form_page(request, "search.html", signed=signed, error=error, form=form, page=page)


@router.get("/lookup", response_class=HTMLResponse)
def lookup_form(request: Request, signed: SignedInDep) -> HTMLResponse:
    return _form_page(
        request,
        "lookup.html",
        signed=signed,
        error=None,
        values="",
        type="",
        known_only=False,
        result=None,
    )


@router.post("/lookup", response_class=HTMLResponse)
def lookup(
    request: Request, form: LookupFormDep, session: SessionDep, signed: SignedInDep, hub: HubDep
) -> HTMLResponse:
    values, kind = pasted_values(form.get("values", "")), form.get("type", "") or None
    result, error = None, "Paste at least one value, one a line." if not values else None
    if values:
        try:
            result = soc_service.lookup_values(
                session,
                caller=signed.caller,
                context=hub,
                values=values,
                observable_type=kind or None,
            )
        except BadRequest as exc:
            error = exc.description
    return _form_page(
        request,
        "lookup.html",
        signed=signed,
        error=error,
        values=form.get("values", ""),
        type=kind or "",
        known_only=form.get("known_only") == "1",
        result=result,
    )


def _form_page(
    request: Request, template: str, *, signed: SignedIn, error: str | None, **context: Any
) -> HTMLResponse:
    """A search or lookup form with what was asked and its answer, or again with the
    reason the service refused it (400, so a script or a test sees the refusal too)."""
    return render(
        request,
        template,
        signed=signed,
        status=400 if error else 200,
        error=error,
        **context,
        **FORM_CHOICES,
    )


@router.get("/indicators/{ref}", response_class=HTMLResponse)
def indicator(
    request: Request,
    ref: Ref,
    session: SessionDep,
    signed: SignedInDep,
    hub: HubDep,
    sighted: Notice = "",
    revoked: Notice = "",
) -> HTMLResponse:
    """``sighted``/``revoked``: what the redirect after a form names (the page shows a
    notice only for a report of this indicator that is the caller's)."""
    detail = soc_service.indicator_detail(session, caller=signed.caller, context=hub, ref=ref)
    return render(
        request, "indicator.html", signed=signed, detail=detail, sighted=sighted, revoked=revoked
    )


@router.post("/indicators/{ref}/sightings")
def report_sighting(
    request: Request,
    ref: Ref,
    form: SessionFormDep,
    session: SessionDep,
    signed: SignedInDep,
    hub: HubDep,
) -> Response:
    receipt = soc_service.report_sighting(
        session, caller=signed.caller, context=hub, ref=ref, request=sighting_request(form)
    )
    target = f"/indicators/{quote(ref, safe='')}?sighted={quote(receipt.id)}#sightings"
    return RedirectResponse(base_path(request) + target, status_code=303)


@router.get("/reports/{object_id}/revoke", response_class=HTMLResponse)
def revocation(
    request: Request,
    object_id: Ref,
    session: SessionDep,
    signed: SignedInDep,
    indicator: Notice = "",
) -> HTMLResponse:
    """``indicator``: the page to go back to afterwards."""
    template = soc_service.revocation_template(session, caller=signed.caller, object_id=object_id)
    return render(
        request,
        "revoke.html",
        signed=signed,
        object_id=object_id,
        revocation=template,
        indicator=indicator_ref(indicator),
    )


@router.get("/reports/{object_id}/revocation.json")
def revocation_file(object_id: Ref, session: SessionDep, signed: SignedInDep) -> Response:
    """The revoked version as a file to sign (``cityshield sign --key KEY revoke.json``)."""
    template = soc_service.revocation_template(session, caller=signed.caller, object_id=object_id)
    return Response(
        orjson.dumps(template, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="revoke.json"'},
    )


@router.post("/reports/{object_id}/revoke")
def revoke(
    request: Request,
    object_id: Ref,
    form: RevokeFormDep,
    session: SessionDep,
    signed: SignedInDep,
    hub: HubDep,
) -> Response:
    """Revoke the caller's report: with the pasted signed version, or none for a report
    the hub signed on its behalf; then back to the indicator's page the form names."""
    soc_service.revoke_report(
        session,
        caller=signed.caller,
        context=hub,
        object_id=object_id,
        signed=signed_revocation(form.get("signed", "")),
    )
    back = indicator_ref(form.get("indicator", ""))
    target = f"/indicators/{back}?revoked={quote(object_id)}#reports" if back else "/"
    return RedirectResponse(base_path(request) + target, status_code=303)
