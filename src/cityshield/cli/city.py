"""City-side commands: ``keygen``, ``sign``, ``verify``, ``submit``.

They run on a city's own systems, not on the hub: they create the key a city registers, sign
objects per docs/signing.md, check signatures against a published JWKS, and send objects to
the hub over TAXII 2.1. Plain command functions; ``cli/main.py`` registers them.

Conventions: machine-readable output on stdout, messages on stderr, exit status 1 for usage,
input, key and connection errors (a message, never a traceback).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import requests
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import ApiRoot

from cityshield import strictjson
from cityshield.cli.context import hub_session, print_json
from cityshield.errors import CityShieldError, DuplicateKey
from cityshield.policy.markings import is_predefined_marking
from cityshield.signing.keys import (
    generate_private_key,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_key_to_pem,
)
from cityshield.signing.scheme import (
    SignatureError,
    kid_for,
    public_jwk,
    read_signature,
    sign_object,
    verify_object,
)

JSONObject = dict[str, Any]

_IDENTITY_RE = re.compile(r"identity--[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")

FileArg = Annotated[
    str,
    typer.Argument(
        metavar="FILE",
        help="STIX bundle, TAXII envelope, JSON list of objects or one object; '-' for stdin.",
    ),
]
KeyOpt = Annotated[
    Path | None,
    typer.Option("--key", "-k", help="Ed25519 private key (PKCS#8 PEM, as written by keygen)."),
]
IdentityOpt = Annotated[
    str | None,
    typer.Option(
        "--identity",
        help="Set created_by_ref to this identity id on objects that lack it, before signing. "
        "Cities usually must: the hub refuses objects whose created_by_ref is not the "
        "submitting member's identity, and recipients rely on it to know the author. "
        "Observables (SCOs, objects without 'created') have no created_by_ref and are "
        "left alone.",
    ),
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


# --------------------------------------------------------------------------------------------
# Input


def _read_objects(file: str) -> list[JSONObject]:
    """The objects of a bundle, an envelope, a list, or a single object.

    A key given twice in one JSON object is refused: signing such a file would vouch for
    whichever value the reader's parser happens to keep.
    """
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {file}: {exc}")
    try:
        data = strictjson.loads_reference(text)
    except DuplicateKey as exc:
        _fail(f"{file}: {exc.description}")
    except ValueError as exc:
        _fail(f"{file} is not valid JSON: {exc}")
    if isinstance(data, list):
        objects = data
    elif isinstance(data, dict) and (data.get("type") == "bundle" or "type" not in data):
        objects = data.get("objects", [] if data.get("type") == "bundle" else None)
    elif isinstance(data, dict):
        objects = [data]
    else:
        objects = None
    if not isinstance(objects, list):
        _fail(f"{file} holds no STIX objects: expected a bundle, an envelope, a list or an object")
    for i, obj in enumerate(objects):
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            _fail(f"{file}: item {i} is not a STIX object (a JSON object with a 'type')")
    return objects


def _load_key(path: Path) -> Ed25519PrivateKey:
    try:
        return load_private_key(path.read_bytes())
    except OSError as exc:
        _fail(f"cannot read key {path}: {exc}")
    except CityShieldError as exc:
        _fail(f"{path}: {exc.description}")


def _with_creator(obj: JSONObject, identity: str) -> JSONObject:
    """Add created_by_ref right after ``id`` (where STIX producers put it). Only objects
    with ``created`` (SDOs, SROs, markings) have the property; SCOs must not get it."""
    if "created_by_ref" in obj or "created" not in obj:
        return obj
    out: JSONObject = {}
    for name, value in obj.items():
        out[name] = value
        if name == "id":
            out["created_by_ref"] = identity
    out.setdefault("created_by_ref", identity)
    return out


def _signed(objects: list[JSONObject], key_path: Path, identity: str | None) -> list[JSONObject]:
    """Sign every object except predefined TLP markings (published by standards bodies)."""
    if identity is not None and not _IDENTITY_RE.fullmatch(identity):
        _fail(f"--identity must be a STIX identity id (identity--<uuid>), got {identity!r}")
    key = _load_key(key_path)
    out = []
    for obj in objects:
        if is_predefined_marking(obj):
            out.append(obj)
            continue
        if identity is not None:
            obj = _with_creator(obj, identity)
        try:
            out.append(sign_object(obj, key))
        except SignatureError as exc:
            _fail(f"cannot sign {obj.get('id', obj['type'])}: {exc.description}")
    return out


# --------------------------------------------------------------------------------------------
# keygen / sign


def keygen(
    out: Annotated[
        str, typer.Option("--out", "-o", help="Writes OUT.pem (private) and OUT.pub.pem.")
    ],
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
) -> None:
    """Create an Ed25519 signing key pair; prints {"kid", "private_key", "public_key", "jwk"}.

    Register OUT.pub.pem with the hub; keep OUT.pem (unencrypted, mode 0600) on the signing
    system only.
    """
    private_path, public_path = Path(f"{out}.pem"), Path(f"{out}.pub.pem")
    if not force:
        for path in (private_path, public_path):
            if path.exists():
                _fail(f"{path} exists; use --force to overwrite it")
    key = generate_private_key()
    try:
        private_path.unlink(missing_ok=True)  # so O_EXCL below creates it with 0600
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # whatever the umask
            handle.write(private_key_to_pem(key))
        public_path.write_bytes(public_key_to_pem(key.public_key()))
    except OSError as exc:
        _fail(f"cannot write key files: {exc}")
    print_json(
        {
            "kid": kid_for(key.public_key()),
            "private_key": str(private_path),
            "public_key": str(public_path),
            "jwk": public_jwk(key.public_key()),
        }
    )


def sign(
    file: FileArg,
    key: Annotated[
        Path, typer.Option("--key", "-k", help="Ed25519 private key (PKCS#8 PEM, from keygen).")
    ],
    identity: IdentityOpt = None,
) -> None:
    """Sign every object; prints a STIX 2.1 bundle of the signed objects.

    Key order is kept, an old signature is replaced, and standard TLP marking-definitions
    stay unsigned. Sign last: any later change to an object invalidates its signature.
    """
    objects = _signed(_read_objects(file), key, identity)
    print_json({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})


# --------------------------------------------------------------------------------------------
# verify


def _load_jwks(source: str | None) -> dict[str, JSONObject]:
    """Usable JWKs by kid, from a URL, a file, or (no source) the local hub's registry."""
    if source is None:
        from cityshield.hub import get_hub_identity
        from cityshield.signing.registry import jwks_document

        with hub_session() as session:
            identity = get_hub_identity(session)
            document: Any = jwks_document(
                session, hub_identity_id=identity["id"] if identity else None
            )
    elif source.startswith(("http://", "https://")):
        try:
            response = httpx.get(source, timeout=30, follow_redirects=True)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            _fail(f"cannot fetch JWKS from {source}: {exc}")
    else:
        try:
            document = strictjson.loads_reference(Path(source).read_text(encoding="utf-8"))
        except DuplicateKey as exc:
            _fail(f"JWKS {source}: {exc.description}")
        except (OSError, ValueError) as exc:
            _fail(f"cannot read JWKS {source}: {exc}")
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        _fail(f"{source or 'the local registry'} is not a JWKS (a JSON object with 'keys')")
    jwks: dict[str, JSONObject] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        public = {k: jwk[k] for k in ("kty", "crv", "x", "kid", "alg", "use") if k in jwk}
        try:  # other key types may share a JWKS; they just never match a kid
            key = load_public_key(json.dumps(public))
        except CityShieldError:
            continue
        jwks[kid_for(key)] = {**jwk, "_key": key}
    return jwks


def _when(epoch: Any) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_problem(jwk: JSONObject, now: float) -> str | None:
    """Why the key should not be trusted now. The verifier cannot know when an object was
    signed, so a revoked or expired key casts doubt on everything it signed."""
    revoked, exp, nbf = jwk.get("revoked_at"), jwk.get("exp"), jwk.get("nbf")
    if isinstance(revoked, int | float) and revoked <= now:
        problem = f"key revoked at {_when(revoked)}"
        since = jwk.get("compromised_since")
        if isinstance(since, int | float):
            problem += f", compromised since {_when(since)}"
        return problem
    if isinstance(exp, int | float) and exp <= now:
        return f"key expired at {_when(exp)}"
    if isinstance(nbf, int | float) and nbf > now:
        return f"key not valid before {_when(nbf)}"
    return None


def _check(obj: JSONObject, jwks: dict[str, JSONObject], allow_revoked: bool) -> JSONObject:
    result: JSONObject = {"id": obj.get("id"), "kid": None, "ok": False, "reason": None}
    if is_predefined_marking(obj):
        return {**result, "ok": True, "reason": "predefined marking, unsigned"}
    try:
        result["kid"], _ = read_signature(obj)
        jwk = jwks.get(result["kid"])
        if jwk is None:
            return {**result, "reason": f"unknown kid {result['kid']}: not in the JWKS"}
        verify_object(obj, jwk["_key"])
    except SignatureError as exc:
        return {**result, "reason": exc.description}
    creator, identity = obj.get("created_by_ref"), jwk.get("identity")
    if identity and creator is not None and creator != identity:
        return {
            **result,
            "reason": f"created_by_ref {creator} is not the key's identity {identity}",
        }
    problem = _key_problem(jwk, time.time())
    if problem and not allow_revoked:
        return {**result, "reason": f"{problem}; the signing time cannot be known"}
    return {**result, "ok": True, "reason": f"warning: {problem}" if problem else None}


def verify(
    file: FileArg,
    jwks: Annotated[
        str | None,
        typer.Option(
            "--jwks",
            help="JWKS URL (e.g. https://HUB/.well-known/jwks.json) or file. "
            "Default: the keys registered in the local hub (CITYSHIELD_HOME).",
        ),
    ] = None,
    allow_revoked: Annotated[
        bool,
        typer.Option(
            "--allow-revoked", help="Accept keys that are revoked or expired (with a warning)."
        ),
    ] = False,
) -> None:
    """Verify each object's signature; prints one JSON line per object:
    {"id", "kid", "ok", "reason"}. Exit status 0 if every object is ok, 1 otherwise.

    Also checks that created_by_ref matches the identity the key is registered for.
    """
    objects = _read_objects(file)
    keys = _load_jwks(jwks)
    results = [_check(obj, keys, allow_revoked) for obj in objects]
    for result in results:
        sys.stdout.write(json.dumps(result) + "\n")
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------
# submit


def _http_error(exc: requests.HTTPError) -> str:
    """The TAXII error message's title/description if the body has one."""
    response = exc.response
    if response is None:
        return str(exc)
    text = f"HTTP {response.status_code} from {response.url}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("title") or body.get("description")):
        parts = [str(body[k]) for k in ("title", "description") if body.get(k)]
        return f"{text}: {': '.join(parts)}"
    return f"{text}: {response.reason}"


def submit(
    file: FileArg,
    url: Annotated[str, typer.Option("--url", help="TAXII API root, e.g. https://HUB/api1/.")],
    collection: Annotated[str, typer.Option("--collection", help="Collection alias or id.")],
    user: Annotated[str, typer.Option("--user", help="Member name.")],
    token: Annotated[
        str, typer.Option("--token", envvar="CITYSHIELD_TOKEN", help="Member's API token.")
    ],
    key: KeyOpt = None,
    identity: IdentityOpt = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Objects per request.")] = 500,
) -> None:
    """Send objects to a hub collection over TAXII 2.1 (signing them first with --key).

    Prints {"total", "success_count", "failure_count", "pending_count", "failures":
    [{"id", "message"}], "status_ids"} and each refused object on stderr. Exit status 0 if
    all were accepted, 2 if some were refused, 1 on usage or connection errors.
    """
    objects = _read_objects(file)
    if key is not None:
        objects = _signed(objects, key, identity)
    elif identity is not None:
        _fail("--identity needs --key: changing an object after signing breaks its signature")
    summary: JSONObject = {
        "total": len(objects),
        "success_count": 0,
        "failure_count": 0,
        "pending_count": 0,
        "failures": [],
        "status_ids": [],
    }
    sent = 0
    try:
        with ApiRoot(url if url.endswith("/") else url + "/", user=user, password=token) as root:
            target = next(
                (c for c in root.collections if collection in (c.id, c.alias)),
                None,
            )
            if target is None:
                names = ", ".join(sorted(c.alias or c.id for c in root.collections)) or "none"
                _fail(f"collection {collection!r} not found at {url} (visible: {names})")
            if not target.can_write:
                _fail(f"collection {collection!r} is not writable for {user}")
            for start in range(0, len(objects), batch):
                chunk = objects[start : start + batch]
                status = target.add_objects({"objects": chunk}, wait_for_completion=True)
                sent += len(chunk)
                summary["status_ids"].append(status.id)
                summary["success_count"] += status.success_count
                summary["failure_count"] += status.failure_count
                summary["pending_count"] += status.pending_count
                summary["failures"] += [
                    {"id": f.get("id"), "message": f.get("message")} for f in status.failures or []
                ]
    except requests.HTTPError as exc:
        _fail(_submitted(sent, len(objects)) + _http_error(exc))
    except requests.RequestException as exc:
        _fail(f"{_submitted(sent, len(objects))}cannot reach {url}: {exc}")
    except (TAXIIServiceException, ValueError) as exc:
        _fail(f"{_submitted(sent, len(objects))}unexpected TAXII response from {url}: {exc}")
    print_json(summary)
    for failure in summary["failures"]:
        typer.echo(f"refused {failure['id']}: {failure['message']}", err=True)
    if summary["pending_count"]:
        typer.echo(f"{summary['pending_count']} objects still pending at the hub", err=True)
    if summary["failure_count"] or summary["pending_count"]:
        raise typer.Exit(2)


def _submitted(sent: int, total: int) -> str:
    return f"after {sent} of {total} objects were sent: " if sent else ""
