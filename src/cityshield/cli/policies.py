"""``cityshield policy ...``: lint, load and explain the sharing policy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cityshield.cli.context import hub_session, print_json
from cityshield.flows.policy import load_policy_files
from cityshield.members.service import caller_for_member, list_members
from cityshield.policy.document import check_policy_files
from cityshield.policy.explain import explain_object

app = typer.Typer(help="Sharing policies: who may see what.")

Files = Annotated[list[Path], typer.Argument(help="Policy files (YAML), e.g. policies/*.yaml.")]


@app.command("check")
def check(files: Files) -> None:
    """Lint policy files; prints problems as PATH:LINE: MESSAGE, exit 1 on any error."""
    with hub_session() as session:
        members = list_members(session)
        known_members = {m.name for m, _ in members}
        known_groups = {g for _, groups in members for g in groups}
    problems = check_policy_files(files, known_members=known_members, known_groups=known_groups)
    for problem in problems:
        typer.echo(f"{problem.path}:{problem.line}: {problem.message}")
    errors = [p for p in problems if not p.message.startswith("warning: ")]
    if errors:
        raise typer.Exit(1)
    typer.echo(f"ok: {len(files)} file(s), {len(problems)} warning(s)", err=True)


@app.command("load")
def load(files: Files) -> None:
    """Make these files the active policy and recompute every object's audience now."""
    with hub_session() as session:
        state = load_policy_files(session, files)
        document = state.document
        print_json(
            {
                "files": [str(f) for f in files],
                "rules": len(document.rules),
                "default_marking": document.default_marking,
                "groups": {name: sorted(g) for name, g in sorted(state.groups.items()) if g},
            }
        )


@app.command("explain")
def explain(
    object_id: Annotated[str, typer.Option("--object", help="STIX id of a stored object.")],
    member: Annotated[str, typer.Option("--member", help="Member name.")],
) -> None:
    """Say which rule allowed or denied MEMBER the object, and what is enforced."""
    with hub_session() as session:
        viewer = caller_for_member(session, member)
        print_json(explain_object(session, object_id=object_id, viewer=viewer))
