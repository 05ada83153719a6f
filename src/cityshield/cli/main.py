"""The ``cityshield`` command. Its commands and output formats are a contract: other tools
script against them (see docs/cli.md)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Annotated

import typer
import uvicorn

from cityshield.cli import (
    city,
    collections,
    delivery,
    feeds,
    keys,
    members,
    policies,
    pull,
    webhooks,
    worker,
)
from cityshield.cli.context import hub_session, print_json
from cityshield.config import get_settings
from cityshield.dedup.service import age_network, publish_pending
from cityshield.demo import credentials_path, seed_demo
from cityshield.hub.service import ensure_hub, load_hub_context
from cityshield.serving import UVICORN_OPTIONS, exit_on_sigterm, worker_process

# Plain (click) help, not typer's rich panels: those print a value type such as <bool> beside
# every switch, and people then type `--force true`, which is refused. Plain help shows
# switches as `--json / --no-json` and only real values get a metavar. The setting reaches
# every sub-command from here.
app = typer.Typer(
    help="cityshield: a TAXII 2.1 threat-sharing hub for a network of cities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
members.app.add_typer(delivery.push_target_app, name="push-target")
members.app.add_typer(webhooks.webhook_app, name="webhook")
members.app.command("urgent")(webhooks.urgent_command)
app.add_typer(members.app, name="member")
app.add_typer(collections.app, name="collection")
app.add_typer(keys.app, name="key")
app.add_typer(policies.app, name="policy")
app.add_typer(delivery.outbox_app, name="outbox")
app.add_typer(feeds.app, name="feeds")
for _name in ("keygen", "sign", "verify", "submit"):
    app.command(_name)(getattr(city, _name))
app.command("pull")(pull.pull)
app.command("worker")(worker.worker)
app.command("jobs")(worker.jobs)


@app.command()
def init() -> None:
    """Create the data directory, database, hub identity and hub key. Idempotent."""
    settings = get_settings()
    with hub_session(settings) as session:
        identity = ensure_hub(session, home=settings.home, name=settings.hub_name)
    print_json({"home": str(settings.home.resolve()), "hub_identity": identity["id"]})


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port shown in the instructions.")] = 8000,
) -> None:
    """Seed a demo network (cities in two regions, sample indicators); print how to connect."""
    settings = get_settings()
    with hub_session(settings) as session:
        ensure_hub(session, home=settings.home, name=settings.hub_name)
        network = load_hub_context(session, settings)
        creds = seed_demo(session, home=settings.home, network=network)
        session.commit()  # publish_pending builds from a fresh snapshot
        publish_pending(session, context=network)
    city = creds["northport"]
    roster = ", ".join(f"{name} ({info['role']})" for name, info in creds.items())
    typer.echo(
        f"Demo network ready; credentials in {credentials_path(settings.home)}\n"
        f"Members: {roster}\n\n"
        f"Try:\n"
        f"  curl -u northport:{city['token']} -H 'Accept: application/taxii+json;version=2.1' \\\n"
        f"       http://127.0.0.1:{port}/api1/collections/submissions/objects/\n"
        f"or open http://127.0.0.1:{port}/ui/ and sign in as northport with that token\n"
        f"(dashboard, search, bulk lookup, indicator pages: docs/web.md).\n",
        err=True,
    )


@app.command()
def age() -> None:
    """Publish pending network indicators and expire those whose every report went stale
    (the worker does both continuously)."""
    settings = get_settings()
    with hub_session(settings) as session:
        context = load_hub_context(session, settings)
        published = publish_pending(session, context=context)
        expired = age_network(session, context=context)
    print_json({"published": published, "expired": expired})


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="API processes.")] = 1,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Also run the background jobs in one worker process (--no-worker for "
            "extra API replicas beside a hub that has one).",
        ),
    ] = True,
) -> None:
    """Run the hub (TAXII 2.1 API) and, by default, one worker process beside it. The
    schema is upgraded first."""
    settings = get_settings()
    with hub_session(settings) as session:
        ensure_hub(session, home=settings.home, name=settings.hub_name)
    exit_on_sigterm()
    with worker_process() if with_worker else nullcontext():
        uvicorn.run(
            "cityshield.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            **UVICORN_OPTIONS,
        )


if __name__ == "__main__":
    app()
