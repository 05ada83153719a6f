"""``cityshield collection ...``: the TAXII collections this hub serves."""

from __future__ import annotations

from typing import Annotated

import typer

from cityshield.cli.context import hub_session, print_json
from cityshield.members.caller import ROLES
from cityshield.store.collections import create_collection, list_all_collections

app = typer.Typer(help="Manage TAXII collections.")

ROLE_METAVAR = f"[{'|'.join(ROLES)}]"


@app.command("add")
def add(
    alias: str,
    title: Annotated[str, typer.Option(help="Human title.")] = "",
    description: Annotated[str, typer.Option()] = "",
    read_role: Annotated[
        list[str] | None,
        typer.Option("--read-role", metavar=ROLE_METAVAR, help="A role that may read; repeatable."),
    ] = None,
    write_role: Annotated[
        list[str] | None,
        typer.Option(
            "--write-role", metavar=ROLE_METAVAR, help="A role that may write; repeatable."
        ),
    ] = None,
) -> None:
    """Add a collection; roles not named may neither read nor write it (admins always may)."""
    with hub_session() as session:
        collection = create_collection(
            session,
            alias=alias,
            title=title or alias,
            description=description,
            read_roles=read_role or [],
            write_roles=write_role or [],
        )
        print_json({"id": collection.id, "alias": collection.alias, "title": collection.title})


@app.command("list")
def list_() -> None:
    """All collections with their access roles, as JSON."""
    with hub_session() as session:
        rows = list_all_collections(session)
        print_json(
            [
                {
                    "id": c.id,
                    "alias": c.alias,
                    "title": c.title,
                    "read_roles": c.read_roles.split(",") if c.read_roles else [],
                    "write_roles": c.write_roles.split(",") if c.write_roles else [],
                }
                for c in rows
            ]
        )
