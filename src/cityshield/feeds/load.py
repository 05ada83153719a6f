"""Reading feed definitions from a directory: one YAML file per feed.

Every problem is reported with its file and key (``feeds/urlhaus.yaml: columns.url: ...``)
and a file with problems defines nothing, while the other files still load: one broken
definition must not stop the hub pulling the rest. A key given twice in one mapping is a
problem too (YAML would silently keep the last one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cityshield.feeds.definition import FeedDefinition
from cityshield.feeds.errors import FeedDefinitionError

SECRET_KEYS = frozenset({"password", "token", "api_key", "apikey", "secret", "user", "username"})


@dataclass
class Definitions:
    """The valid definitions by name, and one line per problem."""

    feeds: dict[str, FeedDefinition] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def get_or_raise(self, name: str) -> FeedDefinition:
        if name in self.feeds:
            return self.feeds[name]
        mine = [p for p in self.problems if Path(p.split(":", 1)[0]).stem == name]
        raise FeedDefinitionError("; ".join(mine) if mine else f"No feed named {name!r}.")


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping with the same key twice."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_definitions(directory: Path) -> Definitions:
    """Every ``*.yaml``/``*.yml`` file of ``directory`` (none if it does not exist)."""
    found = Definitions()
    if not directory.is_dir():
        return found
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    sources: dict[str, Path] = {}
    for path in files:
        definition = read_definition(path, found.problems)
        if definition is None:
            continue
        if definition.name in sources:
            first = sources[definition.name]
            found.problems.append(f"{path}: name: {definition.name!r} is defined by {first} too")
            continue
        sources[definition.name] = path
        found.feeds[definition.name] = definition
    return found


def read_definition(path: Path, problems: list[str]) -> FeedDefinition | None:
    """One file's definition, or None with its problems appended."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read the file: {exc}")
        return None
    except yaml.YAMLError as exc:
        problems.append(f"{path}: not valid YAML: {' '.join(str(exc).split())}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{path}: a feed definition is a mapping (name: ..., kind: ...)")
        return None
    secrets = sorted(str(k) for k in data if str(k).lower() in SECRET_KEYS)
    if secrets:
        problems.append(
            f"{path}: {', '.join(secrets)}: credentials are never read from a definition; "
            "name environment variables instead (auth: {type: basic, user_env: ..., "
            "password_env: ...})"
        )
        return None
    try:
        return FeedDefinition.model_validate(data)
    except ValidationError as exc:
        problems.extend(f"{path}: {_where(error)}{error['msg']}" for error in exc.errors())
        return None


def _where(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()))
    return f"{location}: " if location else ""
