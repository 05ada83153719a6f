"""Public keys for recipients: a JWKS (RFC 7517 / RFC 8037) of members' keys and the hub's.

Public on purpose: a signed object is meant to be verifiable by anyone it reaches, even
after redistribution outside the hub. It lists keys and identities, never member names or
groups.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response

from cityshield.deps import SessionDep
from cityshield.hub.service import get_hub_identity
from cityshield.signing.registry import jwks_document

router = APIRouter()


@router.get("/.well-known/jwks.json")
def get_jwks(session: SessionDep) -> Response:
    identity = get_hub_identity(session)
    document = jwks_document(session, hub_identity_id=identity["id"] if identity else None)
    return Response(orjson.dumps(document), media_type="application/jwk-set+json")
