"""``--help`` of every command: switches look like switches, choices are listed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cityshield.cli.main import app
from cityshield.members.caller import ROLES

_TYPER_OWN = {"help", "install_completion", "show_completion"}


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _walk(sub, (*path, name))


def all_commands() -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, click command) for the root, every group and every command."""
    yield from _walk(typer.main.get_command(app), ())


COMMANDS = list(all_commands())


def help_text(*path: str) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_walk_reaches_nested_commands() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"keygen", "verify", "member list", "member add", "collection add"} <= names


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "-")
def test_help_shows_no_bool_value(path: tuple[str, ...]) -> None:
    """A switch takes no value; help that shows `<bool>` makes people type `--force true`."""
    text = help_text(*path)
    assert "<bool>" not in text and "BOOLEAN" not in text


@pytest.mark.parametrize(
    ("path", "option"),
    [
        (path, param)
        for path, command in COMMANDS
        for param in command.params
        if getattr(param, "is_flag", False) and param.name not in _TYPER_OWN
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value.name,
)
def test_boolean_options_are_on_off_switches(path: tuple[str, ...], option: Any) -> None:
    long, negative = option.opts[0], f"--no-{option.opts[0].removeprefix('--')}"
    assert option.secondary_opts == [negative]
    assert f"{long} / {negative}" in help_text(*path)


def test_boolean_switches_exist_where_expected() -> None:
    flags = {
        (" ".join(path), param.opts[0])
        for path, command in COMMANDS
        for param in command.params
        if getattr(param, "is_flag", False) and param.name not in _TYPER_OWN
    }
    assert {
        ("keygen", "--force"),
        ("verify", "--allow-revoked"),
        ("member list", "--json"),
    } <= flags


def test_role_options_list_the_roles() -> None:
    choices = f"[{'|'.join(ROLES)}]"
    assert f"--role {choices}" in help_text("member", "add")
    collection = help_text("collection", "add")
    assert f"--read-role {choices}" in collection and f"--write-role {choices}" in collection


def test_group_option_says_what_groups_are() -> None:
    text = " ".join(help_text("member", "add").split())
    assert "free names" in text and "groups: section" in text
