"""``cityshield member webhook ...`` and ``cityshield member urgent ...``: a member's webhook
(signed JSON notifications of its network indicators) and what it may do with urgent marks.

``member webhook NAME --url ...`` is short for ``member webhook add NAME --url ...``, as
with ``push-target``. The webhook's secret is printed once, when it is made; delivery to
it is followed with ``outbox list|show|retry --kind webhook``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cityshield.cli.context import hub_session, print_json
from cityshield.cli.delivery import _AddByDefault
from cityshield.config import get_settings
from cityshield.delivery import status, targets, urgent
from cityshield.delivery.credentials import cipher
from cityshield.delivery.webhooks import WEBHOOK, register_webhook
from cityshield.members.service import get_member_or_raise
from cityshield.timefmt import now_micros

webhook_app = typer.Typer(
    cls=_AddByDefault,
    help="A member's webhook: a signed JSON notification (Standard Webhooks) for each new, "
    "updated or revoked network indicator the member may see. "
    "`webhook NAME --url ...` is short for `webhook add NAME --url ...`.",
    no_args_is_help=True,
)


@webhook_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The member whose webhook this is.")],
    url: Annotated[str, typer.Option(help="Where to POST notifications (http or https).")],
    urgent_only: Annotated[
        bool,
        typer.Option(
            "--urgent-only/--no-urgent-only",
            help="Only urgent network indicators (and later versions of those it was sent).",
        ),
    ] = False,
    new_secret: Annotated[
        bool,
        typer.Option("--new-secret/--no-new-secret", help="Replacing: make a new secret too."),
    ] = False,
) -> None:
    """Register (or replace) the member's webhook; prints it as JSON, with "secret":
    "whsec_..." when one was made (a new webhook, or --new-secret): shown this once."""
    settings = get_settings()
    with hub_session(settings) as session:
        registered = register_webhook(
            session,
            member_name=name,
            url=url,
            urgent_only=urgent_only,
            fernet=cipher(settings.home, settings.delivery_secret_key),
            now_us=now_micros(),
            new_secret_wanted=new_secret,
        )
        shown = status.public_target(registered.target, name).model_dump()
        if registered.secret is not None:
            shown["secret"] = registered.secret
        print_json(shown)
    if registered.secret is not None:
        typer.echo("the secret is shown this once: give it to the receiver now", err=True)


@webhook_app.command("list")
def list_() -> None:
    """Every webhook (its secret as ***)."""
    with hub_session() as session:
        print_json(
            [
                status.public_target(t, m).model_dump()
                for t, m in targets.list_targets(session, kind=WEBHOOK)
            ]
        )


@webhook_app.command("remove")
def remove(name: str) -> None:
    """Stop notifying the member (its receipts are dropped too)."""
    with hub_session() as session:
        targets.remove_target(session, member_name=name, kind=WEBHOOK)
    typer.echo(f"removed the webhook of {name}", err=True)


@webhook_app.command("pause")
def pause(name: str) -> None:
    """Stop notifying until resumed; nothing due is lost."""
    with hub_session() as session:
        target = targets.pause_target(session, member_name=name, kind=WEBHOOK)
        print_json(status.public_target(target, name).model_dump())


@webhook_app.command("resume")
def resume(name: str) -> None:
    """Notify again (from paused or dead-lettered), at once."""
    with hub_session() as session:
        target = targets.resume_target(session, member_name=name, kind=WEBHOOK)
        print_json(status.public_target(target, name).model_dump())


def urgent_command(
    name: Annotated[str, typer.Argument(help="A member.")],
    allow: Annotated[
        bool | None,
        typer.Option("--allow/--no-allow", help="Whether its urgent marks may be honoured."),
    ] = None,
    per_hour: Annotated[
        int | None,
        typer.Option(min=0, help="Its own limit of honoured urgent objects in any hour."),
    ] = None,
    reset: Annotated[
        bool, typer.Option("--reset/--no-reset", help="Back to the defaults.")
    ] = False,
) -> None:
    """Show or set what a member may do with urgent marks (x_cityshield_urgent): prints
    {"member", "allowed", "per_hour", "custom", "honoured_last_hour"}."""
    settings = get_settings()
    with hub_session(settings) as session:
        member = get_member_or_raise(session, name)
        default = settings.urgent_per_hour
        if allow is None and per_hour is None and not reset:
            policy = urgent.urgent_policy(
                session, member_id=member.id or 0, default_per_hour=default
            )
        else:
            policy = urgent.set_urgent_policy(
                session,
                member_name=name,
                allowed=allow,
                per_hour=per_hour,
                reset=reset,
                default_per_hour=default,
            )
        used = urgent.honoured_count(session, member_id=member.id or 0, now_us=now_micros())
        print_json(
            {
                "member": name,
                "allowed": policy.allowed,
                "per_hour": policy.per_hour,
                "custom": policy.custom,
                "honoured_last_hour": used,
            }
        )
