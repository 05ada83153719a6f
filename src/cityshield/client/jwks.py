"""A hub's public keys (``/.well-known/jwks.json``, or a copy in a file), by kid.

Used to verify signed objects away from the hub, and by ``submit`` to learn the STIX
identity a city's key is registered for: the JWKS is public and says, per key, which identity
it signs for, so a city need not copy its identity id around by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cityshield import strictjson
from cityshield.client.errors import HubClientError
from cityshield.client.taxii import hub_url
from cityshield.errors import CityShieldError, DuplicateKey
from cityshield.signing.jwk import kid_for
from cityshield.signing.keys import load_public_key

JSONObject = dict[str, Any]

JWKS_PATH = ".well-known/jwks.json"


def jwks_url(api_root: str) -> str:
    """Where the hub serving ``api_root`` publishes its JWKS."""
    return hub_url(api_root, JWKS_PATH)


def fetch_jwks(url: str) -> Any:
    """The JWKS document at ``url`` (no credentials: it is public)."""
    try:
        response = httpx.get(url, timeout=30, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise HubClientError(f"cannot reach {url} to fetch the JWKS: {exc}") from exc
    if response.is_error:
        raise HubClientError(
            f"cannot fetch JWKS from {url}: HTTP {response.status_code} {response.reason_phrase}"
        )
    try:
        return response.json()
    except ValueError as exc:
        raise HubClientError(f"cannot fetch JWKS from {url}: not JSON ({exc})") from exc


def read_jwks(source: str) -> Any:
    """The JWKS document at a URL or in a file."""
    if source.startswith(("http://", "https://")):
        return fetch_jwks(source)
    try:
        return strictjson.loads_reference(Path(source).read_text(encoding="utf-8"))
    except DuplicateKey as exc:
        raise HubClientError(f"JWKS {source}: {exc.description}") from exc
    except (OSError, ValueError) as exc:
        raise HubClientError(f"cannot read JWKS {source}: {exc}") from exc


def usable_keys(document: Any, *, source: str) -> dict[str, JSONObject]:
    """Ed25519 JWKs by kid, each with its loaded key under ``_key``.

    The kid is recomputed from the key rather than trusted: a JWKS entry whose ``kid`` named
    another key must not let that other key's signatures verify.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise HubClientError(f"{source} is not a JWKS (a JSON object with 'keys')")
    keys: dict[str, JSONObject] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        public = {k: jwk[k] for k in ("kty", "crv", "x", "kid", "alg", "use") if k in jwk}
        try:  # other key types may share a JWKS; they just never match a kid
            key = load_public_key(json.dumps(public))
        except CityShieldError:
            continue
        keys[kid_for(key)] = {**jwk, "_key": key}
    return keys


def identity_for_key(api_root: str, public_key: Ed25519PublicKey) -> str | None:
    """The STIX identity the hub has this key registered for, or None if it does not know
    the key (the hub will then refuse what it signs, with its own precise reason)."""
    url = jwks_url(api_root)
    jwk = usable_keys(fetch_jwks(url), source=url).get(kid_for(public_key))
    identity = jwk.get("identity") if jwk else None
    return identity if isinstance(identity, str) else None
