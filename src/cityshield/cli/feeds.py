"""``cityshield feeds list|status|run``: the feed definitions, each feed's health, and a
pull now (the worker pulls every enabled feed at its own interval; docs/feeds.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from cityshield.cli.context import hub_engine, hub_session, print_json
from cityshield.config import get_settings
from cityshield.feeds.load import load_definitions
from cityshield.feeds.service import (
    describe_definitions,
    get_feed_health,
    list_feed_health,
    run_now,
)
from cityshield.worker.run import worker_name

app = typer.Typer(
    help="Feeds the hub pulls: definitions in CITYSHIELD_FEEDS_DIR (default feeds/), one "
    "YAML file per feed.",
    no_args_is_help=True,
)
NameArg = Annotated[str | None, typer.Argument(help="One feed; all of them without it.")]


@app.command("list")
def list_command() -> None:
    """The definitions in CITYSHIELD_FEEDS_DIR, and every problem found in them (exit 1
    if there is one)."""
    definitions = load_definitions(get_settings().feeds_dir)
    print_json(describe_definitions(definitions))
    if definitions.problems:
        raise typer.Exit(1)


@app.command("status")
def status_command(name: NameArg = None) -> None:
    """Each feed's health: last pull, last error, what it added, withdrew and refused,
    how many values it vouches for, its cursor and ETag."""
    with hub_session() as session:
        if name is None:
            print_json([f.model_dump() for f in list_feed_health(session)])
        else:
            print_json(get_feed_health(session, name).model_dump())


@app.command("run")
def run_command(name: NameArg = None) -> None:
    """Pull one feed now (even a disabled one), or every enabled feed; exit 2 if a pull
    failed. Each pull takes the feed's lease, so it never overlaps the worker's."""
    settings = get_settings()
    with hub_engine(settings) as engine:
        results = run_now(
            engine=engine, settings=settings, name=name, holder=f"cli:{worker_name()}"
        )
    print_json(results)
    if any(result.get("error") for result in results):
        raise typer.Exit(2)
