"""``cityshield key ...``: the admin side of the member key registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cityshield.cli.context import hub_session, print_json
from cityshield.config import get_settings
from cityshield.errors import BadRequest
from cityshield.flows import keys as flows
from cityshield.signing import registry
from cityshield.signing.models import SigningKey
from cityshield.timefmt import format_date_added, parse_timestamp

app = typer.Typer(help="Manage the members' signing keys (admin).")


def _time(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise BadRequest(
            f"{option} must be an RFC 3339 timestamp, e.g. 2026-11-20T09:15:00Z."
        ) from exc


def _stamp(micros: int | None) -> str | None:
    return format_date_added(micros) if micros is not None else None


def key_json(key: SigningKey, owner: str) -> dict[str, object]:
    return {
        "kid": key.kid,
        "member": owner,
        "not_before": _stamp(key.not_before_us),
        "not_after": _stamp(key.not_after_us),
        "revoked_at": _stamp(key.revoked_us),
        "compromised_since": _stamp(key.compromised_since_us),
    }


@app.command("add")
def add(
    member: str,
    public_key_file: Annotated[Path, typer.Argument(help="PEM, raw base64url, or JWK.")],
    not_before: Annotated[str | None, typer.Option(help="RFC 3339; default now.")] = None,
    not_after: Annotated[str | None, typer.Option(help="RFC 3339; default never.")] = None,
) -> None:
    """Register a member's public key; prints {"kid", ...} as JSON."""
    with hub_session() as session:
        if not public_key_file.is_file():
            raise BadRequest(f"{public_key_file} is not a readable file.")
        key = registry.add_member_key(
            session,
            member_name=member,
            key_data=public_key_file.read_bytes(),
            not_before_us=_time(not_before, "--not-before"),
            not_after_us=_time(not_after, "--not-after"),
        )
        print_json(key_json(key, member))


@app.command("list")
def list_(member: Annotated[str | None, typer.Argument()] = None) -> None:
    """Keys (of one member, or all, the hub's included) as a JSON list."""
    with hub_session() as session:
        print_json(
            [key_json(k, owner) for k, owner in registry.list_keys(session, member_name=member)]
        )


@app.command("revoke")
def revoke(
    kid: str,
    compromised_since: Annotated[
        str | None,
        typer.Option(help="RFC 3339: quarantine every object this key signed received since."),
    ] = None,
) -> None:
    """Revoke a key now; with --compromised-since also quarantine what it signed since then."""
    settings = get_settings()
    with hub_session(settings) as session:
        key = flows.revoke_key(
            session,
            settings=settings,
            kid=kid,
            compromised_since_us=_time(compromised_since, "--compromised-since"),
        )
        print_json(key_json(*registry.list_keys(session, kid=key.kid)[0]))


@app.command("lift-quarantine")
def lift_quarantine(kid: str) -> None:
    """Bring back the objects a --compromised-since revocation hid (the key stays revoked)."""
    settings = get_settings()
    with hub_session(settings) as session:
        key = flows.lift_quarantine(session, settings=settings, kid=kid)
        print_json(key_json(*registry.list_keys(session, kid=key.kid)[0]))
