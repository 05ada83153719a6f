"""``cityshield member ...``: add, list, remove members and rotate their tokens."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cityshield.cli.context import hub_session, print_json
from cityshield.config import get_settings
from cityshield.flows import members as flows
from cityshield.members import service
from cityshield.members.caller import ROLES

app = typer.Typer(help="Manage the network's members (cities, analysts, admins).")


ROLE_HELP = (
    "What the member may do: 'member' (a city) and 'analyst' read and write the "
    "collections whose roles name them (see `collection add --read-role/--write-role`); "
    "'admin' also sees every object, deletes objects and explains the policy."
)
GROUP_HELP = (
    "A group to put the member in; repeatable. Groups are free names (a region, a sector: "
    "north, water); members sharing a group see each other's TLP:AMBER objects, and policy "
    "rules can allow or deny by group. The policy's groups: section can add members to more."
)


@app.command("add")
def add(
    name: str,
    group: Annotated[
        list[str] | None, typer.Option("--group", "-g", metavar="GROUP", help=GROUP_HELP)
    ] = None,
    role: Annotated[
        str, typer.Option(metavar=f"[{'|'.join(ROLES)}]", help=ROLE_HELP, show_default=True)
    ] = "member",
) -> None:
    """Add a member; prints {"name", "identity_id", "token"} as JSON. The token is shown once.

    The hub publishes the member's signed identity in its ``hub`` collection."""
    settings = get_settings()
    with hub_session(settings) as session:
        creds = flows.add_member(
            session, home=settings.home, name=name, role=role, groups=group or []
        )
    print_json({"name": creds.name, "identity_id": creds.identity_id, "token": creds.token})


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json/--no-json", help="JSON output.")] = False,
) -> None:
    """List members with their role and groups (never their tokens)."""
    with hub_session() as session:
        rows: list[dict[str, Any]] = [
            {
                "name": m.name,
                "identity_id": m.identity_id,
                "role": m.role,
                "groups": groups,
                "active": m.active,
            }
            for m, groups in service.list_members(session)
        ]
    if as_json:
        print_json(rows)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "role", "groups", "identity")
    for row in rows:
        table.add_row(row["name"], row["role"], ", ".join(row["groups"]), row["identity_id"])
    Console().print(table)


@app.command("remove")
def remove(name: str) -> None:
    """Remove a member; its token stops working at once and the hub publishes a revoked
    version of its identity (the name cannot be used again)."""
    settings = get_settings()
    with hub_session(settings) as session:
        flows.remove_member(session, home=settings.home, name=name)
    typer.echo(f"removed {name}", err=True)


@app.command("rotate-token")
def rotate_token(name: str) -> None:
    """Issue a new token (printed once as JSON); the old one stops working."""
    with hub_session() as session:
        creds = service.rotate_token(session, name=name)
    print_json({"name": creds.name, "identity_id": creds.identity_id, "token": creds.token})
