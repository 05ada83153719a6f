"""``cityshield pull``: fetch one of the hub's exports into a file, for cron jobs and
systemd timers on a city's own systems (deploy/cityshield-pull.service, .timer).

Plain command function; ``cli/main.py`` registers it. The work is done by
``cityshield.client.exports`` (atomic replacement, conditional requests).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Annotated

import httpx
import typer

from cityshield.cli.context import print_json
from cityshield.client.errors import HubClientError
from cityshield.client.exports import PullState, export_url, pull_export
from cityshield.exports.query import FORMATS


def _params(**values: object) -> dict[str, str]:
    """Query parameters for the options given (booleans as true/false)."""
    params: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        params[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return params


def pull(
    url: Annotated[str, typer.Option("--url", help="The hub's base URL, e.g. https://HUB/.")],
    out: Annotated[Path, typer.Option("--out", help="File to write (replaced atomically).")],
    token: Annotated[
        str, typer.Option("--token", envvar="CITYSHIELD_TOKEN", help="Member's API token.")
    ],
    user: Annotated[
        str | None,
        typer.Option("--user", help="Member name (HTTP Basic); without it, a Bearer token."),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option("--format", help=f"One of {', '.join(FORMATS)}.", metavar="FORMAT"),
    ] = "edl",
    observable_type: Annotated[
        str | None,
        typer.Option("--type", help="Observable types, comma-separated (default per format)."),
    ] = None,
    min_members: Annotated[int | None, typer.Option("--min-members", min=1)] = None,
    min_confidence: Annotated[int | None, typer.Option("--min-confidence", min=0, max=100)] = None,
    tlp: Annotated[str | None, typer.Option("--tlp", help="Most restrictive TLP level.")] = None,
    max_entries: Annotated[
        int | None, typer.Option("--max", min=1, help="At most this many entries.")
    ] = None,
    collapse: Annotated[
        bool,
        typer.Option(
            "--collapse/--no-collapse", help="Merge IPs into CIDR blocks (edl, suricata)."
        ),
    ] = False,
    url_form: Annotated[
        str | None, typer.Option("--url-form", help="bare (host/path) or full.")
    ] = None,
    category: Annotated[
        int | None, typer.Option("--category", min=1, max=60, help="Suricata category id.")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="JSON file keeping the ETag (a list that did not change is not fetched "
            "again) and the next since token.",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Fetch only what changed since this token (a delta)."),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option(
            "--incremental/--no-incremental",
            help="Fetch a delta since the token kept in --state (the whole list when it "
            "holds none).",
        ),
    ] = False,
) -> None:
    """Write one of the hub's exports to --out, replaced atomically (never half a list).

    Prints {"status": "updated"|"not-modified", "out", "entries", "total", "truncated",
    "etag", "next_since"}; with --state the ETag and next_since are kept there, so the next
    run sends If-None-Match (whole lists) or since (--incremental). Exit status 1 on any
    error, with the file left as it was.
    """
    if fmt not in FORMATS:
        typer.echo(f"error: --format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(1)
    auth: httpx.Auth = httpx.BasicAuth(user, token) if user else _Bearer(token)
    try:
        kept = PullState.read(state)
        delta = since or (kept.next_since if incremental else None)
        result = pull_export(
            url=export_url(url, fmt),
            params=_params(
                type=observable_type,
                min_members=min_members,
                min_confidence=min_confidence,
                tlp=tlp,
                max=max_entries,
                collapse=collapse or None,
                url_form=url_form,
                category=category,
            ),
            auth=auth,
            out=out,
            state=kept,
            since=delta,
        )
        if state is not None and result.changed:
            result.state.write(state)
    except HubClientError as exc:
        typer.echo(f"error: {exc.description}", err=True)
        raise typer.Exit(1) from exc
    print_json(result.as_json(out))


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request
