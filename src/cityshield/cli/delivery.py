"""``cityshield member push-target ...`` and ``cityshield outbox ...``: members' own TAXII
servers the hub pushes to, and how delivery to them is going.

``member push-target NAME --url ...`` is short for ``member push-target add NAME --url ...``:
the group runs ``add`` when its first word is not one of its commands (a member named like
one of them, say ``list``, is registered with ``add list``). Passwords and tokens may come
from the environment (``CITYSHIELD_PUSH_PASSWORD``, ``CITYSHIELD_PUSH_TOKEN``) so they stay
out of shell history; no command ever prints them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cityshield.cli.context import hub_session, print_json
from cityshield.config import get_settings
from cityshield.delivery import receipts as receipts_service
from cityshield.delivery import status, targets
from cityshield.delivery.credentials import Credentials, cipher
from cityshield.delivery.targets import TargetSpec
from cityshield.timefmt import now_micros


class _AddByDefault(TyperGroup):
    """A group whose first word, when it names no command, is the member for ``add``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["add", *args]
        return super().resolve_command(ctx, args)


push_target_app = typer.Typer(
    cls=_AddByDefault,
    help="A member's own TAXII 2.1 server that the hub pushes what the member may see to. "
    "`push-target NAME --url ...` is short for `push-target add NAME --url ...`.",
    no_args_is_help=True,
)
outbox_app = typer.Typer(
    help="Delivery to members' push targets: lag, receipts, retries.", no_args_is_help=True
)

KindOpt = Annotated[
    str,
    typer.Option(
        "--kind",
        metavar="[taxii|webhook]",
        help="With a NAME: the member's push target (taxii) or its webhook.",
    ),
]
VIEW_HELP = (
    "What to push: 'network' (the member's network indicators, one per IOC with its "
    "corroboration, as the member reads them) or 'submissions' (the originals it may read)."
)


@push_target_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The member whose server this is.")],
    url: Annotated[str, typer.Option(help="The member's TAXII 2.1 API root URL.")],
    collection: Annotated[str, typer.Option(help="The collection id there to add objects to.")],
    user: Annotated[str | None, typer.Option(help="HTTP Basic user name.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="CITYSHIELD_PUSH_PASSWORD", show_envvar=True, help="HTTP Basic password."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="CITYSHIELD_PUSH_TOKEN", show_envvar=True, help="Bearer token."),
    ] = None,
    view: Annotated[str, typer.Option(metavar="[network|submissions]", help=VIEW_HELP)] = "network",
    min_members: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Push only network indicators at least N members corroborate (as this "
            "member sees them); once one is pushed, its later versions always follow.",
        ),
    ] = None,
) -> None:
    """Register (or replace) the member's push target; prints it as JSON, secret as ***."""
    settings = get_settings()
    if token and (user or password):
        typer.echo("error: give --user and --password, or --token, not both", err=True)
        raise typer.Exit(1)
    kind = "token" if token else "basic" if (user or password) else "none"
    spec = TargetSpec(
        url=url,
        collection=collection,
        view=view,
        min_members=min_members,
        credentials=Credentials(kind, user, token or password),
    )
    with hub_session(settings) as session:
        target = targets.register_target(
            session,
            member_name=name,
            spec=spec,
            fernet=cipher(settings.home, settings.delivery_secret_key),
            now_us=now_micros(),
        )
        print_json(status.public_target(target, name).model_dump())


@push_target_app.command("list")
def list_() -> None:
    """Every push target (never its password or token: ***)."""
    with hub_session() as session:
        print_json(
            [
                status.public_target(t, m).model_dump()
                for t, m in targets.list_targets(session, kind=targets.TAXII)
            ]
        )


@push_target_app.command("remove")
def remove(name: str) -> None:
    """Stop pushing to the member's server (its receipts are dropped too)."""
    with hub_session() as session:
        targets.remove_target(session, member_name=name)
    typer.echo(f"removed the push target of {name}", err=True)


@push_target_app.command("pause")
def pause(name: str) -> None:
    """Stop sending to the member's server until resumed; nothing due is lost."""
    with hub_session() as session:
        target = targets.pause_target(session, member_name=name)
        print_json(status.public_target(target, name).model_dump())


@push_target_app.command("resume")
def resume(name: str) -> None:
    """Send again (from paused or dead-lettered), at once."""
    with hub_session() as session:
        print_json(
            status.public_target(
                targets.resume_target(session, member_name=name), name
            ).model_dump()
        )


@outbox_app.command("list")
def outbox_list() -> None:
    """Per target: state, last success, last error, attempts, and the lag (objects due,
    the oldest one's date_added and age)."""
    with hub_session() as session:
        now_us = now_micros()
        print_json(
            [
                status.public_target(
                    t, m, status.measure_lag(session, t, now_us=now_us)
                ).model_dump()
                for t, m in targets.list_targets(session)
            ]
        )


@outbox_app.command("show")
def show(
    name: Annotated[str | None, typer.Argument(help="A member with a push target.")] = None,
    indicator: Annotated[
        str | None,
        typer.Option(help="Instead: which members' servers hold this object id, and since when."),
    ] = None,
    receipt_status: Annotated[
        str | None,
        typer.Option("--status", metavar="[delivered|rejected]", help="Only these receipts."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Latest receipts shown.")] = 20,
    kind: KindOpt = "taxii",
) -> None:
    """A target with its lag and latest receipts, or (--indicator) one object's deliveries."""
    if (name is None) == (indicator is None):
        typer.echo("error: give a member NAME or --indicator ID", err=True)
        raise typer.Exit(1)
    with hub_session() as session:
        if indicator is not None:
            rows = receipts_service.deliveries_of(session, object_id=indicator)
            print_json([status.public_delivery(r, m, u).model_dump() for r, m, u in rows])
            return
        assert name is not None
        target = targets.get_target_or_raise(session, name, kind)
        shown = status.public_target(
            target, name, status.measure_lag(session, target, now_us=now_micros())
        ).model_dump()
        rows_ = receipts_service.list_receipts(
            session, target_id=target.id or 0, status=receipt_status, limit=limit
        )
        shown["receipts"] = [status.public_receipt(r).model_dump() for r in rows_]
        print_json(shown)


@outbox_app.command("retry")
def retry(
    name: Annotated[
        str | None, typer.Argument(help="A member; without it, every failing target.")
    ] = None,
    rejected: Annotated[
        bool,
        typer.Option("--rejected/--no-rejected", help="Also resend what receivers refused."),
    ] = False,
    kind: KindOpt = "taxii",
) -> None:
    """Make dead-lettered or backing-off targets due now; prints the targets retried."""
    with hub_session() as session:
        retried = targets.retry_targets(session, member_name=name, rejected=rejected, kind=kind)
        names = dict((t.id, m) for t, m in targets.list_targets(session))
        print_json([status.public_target(t, names[t.id]).model_dump() for t in retried])
