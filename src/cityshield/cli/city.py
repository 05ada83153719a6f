"""City-side commands: ``keygen``, ``sign``, ``verify``, ``submit``.

They run on a city's own systems, not on the hub: they create the key a city registers, sign
objects per docs/signing.md, check signatures against a published JWKS, and send objects to
the hub over TAXII 2.1 (through ``cityshield.client``). Plain command functions;
``cli/main.py`` registers them.

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
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cityshield.cli.context import NoHubDatabase, existing_hub_session, print_json
from cityshield.client.errors import HubClientError
from cityshield.client.jwks import identity_for_key, jwks_url, read_jwks, usable_keys
from cityshield.client.objects import objects_of, sign_objects
from cityshield.client.taxii import submit_objects
from cityshield.client.verify import check_object
from cityshield.delivery.urgent import mark_urgent
from cityshield.errors import CityShieldError
from cityshield.signing.errors import SignatureError
from cityshield.signing.jwk import kid_for, public_jwk
from cityshield.signing.keys import (
    generate_private_key,
    load_private_key,
    private_key_to_pem,
    public_key_to_pem,
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
        "Cities usually should: the hub refuses objects whose created_by_ref is not the "
        "submitting member's identity, and recipients rely on it to know the author. "
        "Observables (SCOs, objects without 'created') have no created_by_ref and are "
        "left alone.",
    ),
]
SubmitIdentityOpt = Annotated[
    str | None,
    typer.Option(
        "--identity",
        help="Set created_by_ref to this identity id on objects that lack it, before signing. "
        "Default with --key: the identity the hub's JWKS (next to --url) lists for the key, "
        "i.e. the member's own. SCOs (objects without 'created') are left alone.",
    ),
]


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


# --------------------------------------------------------------------------------------------
# Input


def _read_objects(file: str) -> list[JSONObject]:
    """The objects of the bundle, envelope, list or object in ``file`` ('-': stdin)."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {file}: {exc}")
    try:
        return objects_of(text, source=file)
    except CityShieldError as exc:
        _fail(exc.description)


def _load_key(path: Path) -> Ed25519PrivateKey:
    try:
        return load_private_key(path.read_bytes())
    except OSError as exc:
        _fail(f"cannot read key {path}: {exc}")
    except CityShieldError as exc:
        _fail(f"{path}: {exc.description}")


def _check_identity(identity: str | None) -> None:
    if identity is not None and not _IDENTITY_RE.fullmatch(identity):
        _fail(f"--identity must be a STIX identity id (identity--<uuid>), got {identity!r}")


def _signed(
    objects: list[JSONObject], key: Ed25519PrivateKey, identity: str | None
) -> list[JSONObject]:
    try:
        return sign_objects(objects, key, identity)
    except SignatureError as exc:
        _fail(exc.description)


# --------------------------------------------------------------------------------------------
# keygen / sign


def keygen(
    out: Annotated[
        str, typer.Option("--out", "-o", help="Writes OUT.pem (private) and OUT.pub.pem.")
    ],
    force: Annotated[
        bool, typer.Option("--force/--no-force", help="Overwrite existing files.")
    ] = False,
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
    _check_identity(identity)
    objects = _signed(_read_objects(file), _load_key(key), identity)
    print_json({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects})


# --------------------------------------------------------------------------------------------
# verify


def _load_jwks(source: str | None) -> dict[str, JSONObject]:
    """Usable JWKs by kid, from a URL, a file, or (no source) an existing local hub."""
    if source is not None:
        try:
            return usable_keys(read_jwks(source), source=source)
        except HubClientError as exc:
            _fail(exc.description)
    from cityshield.hub.service import get_hub_identity
    from cityshield.signing.registry import jwks_document

    try:
        with existing_hub_session() as session:
            identity = get_hub_identity(session)
            document = jwks_document(session, hub_identity_id=identity["id"] if identity else None)
    except NoHubDatabase as exc:
        _fail(
            f"{exc.description} to take keys from; pass --jwks URL|FILE "
            "(e.g. --jwks https://HUB/.well-known/jwks.json)"
        )
    return usable_keys(document, source="the local hub's registry")


def verify(
    file: FileArg,
    jwks: Annotated[
        str | None,
        typer.Option(
            "--jwks",
            help="JWKS URL (e.g. https://HUB/.well-known/jwks.json) or file. "
            "Default: the keys registered in an existing local hub (CITYSHIELD_HOME); "
            "without one, verify fails and creates nothing.",
        ),
    ] = None,
    allow_revoked: Annotated[
        bool,
        typer.Option(
            "--allow-revoked/--no-allow-revoked",
            help="Accept keys that are revoked or expired (with a warning).",
        ),
    ] = False,
) -> None:
    """Verify each object's signature; prints one JSON line per object:
    {"id", "kid", "ok", "reason"}. Exit status 0 if every object is ok, 1 otherwise.

    Also checks that created_by_ref matches the identity the key is registered for.
    """
    objects = _read_objects(file)
    keys = _load_jwks(jwks)
    now = time.time()
    results = [check_object(o, keys, allow_revoked=allow_revoked, now=now) for o in objects]
    for result in results:
        sys.stdout.write(json.dumps(result) + "\n")
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


# --------------------------------------------------------------------------------------------
# submit


def _hub_identity_for(url: str, key: Ed25519PrivateKey, user: str) -> str | None:
    """The identity the hub lists for ``key``, so created_by_ref names the author without
    the city copying its identity id around. The hub checks it against the submitter anyway."""
    try:
        identity = identity_for_key(url, key.public_key())
    except HubClientError as exc:
        _fail(f"cannot look up the key's identity (or pass --identity): {exc.description}")
    if identity is None:
        typer.echo(
            f"warning: key {kid_for(key.public_key())} is not in the hub's JWKS "
            f"({jwks_url(url)}); objects are sent without created_by_ref and the hub will "
            f"refuse them. Register it: cityshield key add {user} PUBLIC_KEY.pem",
            err=True,
        )
    return identity


def submit(
    file: FileArg,
    url: Annotated[str, typer.Option("--url", help="TAXII API root, e.g. https://HUB/api1/.")],
    collection: Annotated[str, typer.Option("--collection", help="Collection alias or id.")],
    user: Annotated[str, typer.Option("--user", help="Member name.")],
    token: Annotated[
        str, typer.Option("--token", envvar="CITYSHIELD_TOKEN", help="Member's API token.")
    ],
    key: KeyOpt = None,
    identity: SubmitIdentityOpt = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="Objects per request.")] = 500,
    urgent: Annotated[
        bool,
        typer.Option(
            "--urgent/--no-urgent",
            help="Mark indicators and sightings x_cityshield_urgent (needs --key: the mark "
            "is signed): the hub publishes and pushes them first, within its per-member "
            "limit; the status's message says whether it honoured each mark.",
        ),
    ] = False,
) -> None:
    """Send objects to a hub collection over TAXII 2.1 (signing them first with --key).

    With --key and no --identity, created_by_ref defaults to the identity the hub's JWKS
    lists for the key. Prints {"total", "success_count", "failure_count", "pending_count",
    "failures": [{"id", "message"}], "status_ids"} (and "messages": [{"id", "message"}] for
    accepted objects the hub said something about, e.g. an urgent mark) and each refused
    object on stderr. Exit
    status 0 if all were accepted, 2 if some were refused, 1 on usage or connection errors.
    """
    _check_identity(identity)
    objects = _read_objects(file)
    if urgent and key is None:
        _fail("--urgent needs --key: the mark is part of the signed object")
    if urgent:
        objects = [mark_urgent(obj) for obj in objects]
    if key is not None:
        private = _load_key(key)
        if identity is None:
            identity = _hub_identity_for(url, private, user)
        objects = _signed(objects, private, identity)
    elif identity is not None:
        _fail("--identity needs --key: changing an object after signing breaks its signature")
    try:
        summary = submit_objects(
            api_root=url,
            collection=collection,
            user=user,
            token=token,
            objects=objects,
            batch=batch,
        )
    except HubClientError as exc:
        _fail(exc.description)
    print_json(summary.as_json())
    for failure in summary.failures:
        typer.echo(f"refused {failure['id']}: {failure['message']}", err=True)
    if summary.pending_count:
        typer.echo(f"{summary.pending_count} objects still pending at the hub", err=True)
    if summary.failure_count or summary.pending_count:
        raise typer.Exit(2)
