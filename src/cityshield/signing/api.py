"""Public keys for recipients: a JWKS (RFC 7517 / RFC 8037) of members' keys and the hub's.

Public on purpose: a signed object is meant to be verifiable by anyone it reaches, even
after redistribution outside the hub. It lists keys and identities, never member names or
groups.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Response

from cityshield.deps import SessionDep
from cityshield.hub import service as hub

router = APIRouter()


@router.get("/.well-known/jwks.json")
def get_jwks(session: SessionDep) -> Response:
    return Response(orjson.dumps(hub.get_jwks(session)), media_type="application/jwk-set+json")
