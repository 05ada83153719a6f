"""The import rule of docs/architecture.md ("Packages and who may import whom"), enforced.

Every module under ``src/cityshield`` belongs to one layer; a module may import (at module
level or inside a function, for type checking or not) only modules of its own layer and of
the layers below it. The picture in the docs stays true only if this test says no when
someone adds ``from cityshield.policy import ...`` to ``store/``.

A package nobody placed is an error too: a new package gets a layer here, with its place in
the picture, before it can be imported by anyone.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = "cityshield"


@dataclass(frozen=True)
class Layer:
    name: str
    on: tuple[str, ...]
    """The layers directly below this one (it may import those and everything below them)."""
    packages: tuple[str, ...]
    """Packages and modules (dotted, without ``cityshield.``) that make up the layer."""


LAYERS: tuple[Layer, ...] = (
    Layer(
        "base",
        on=(),
        packages=(
            "",  # the package itself (``__version__``)
            "bulk",
            "config",
            "db",
            "errors",
            "jsonvalue",
            "memory",
            "middleware",
            "migrate",
            "pooled",
            "serving",
            "strictjson",
            "timefmt",
        ),
    ),
    # The vocabulary: TLP ids and order, versions, validation, observable values. Pure (no
    # database), so it cannot name a table either.
    Layer("stix", on=("base",), packages=("stix",)),
    # Tables: every ``models`` module (see MODELS), the metadata that collects them, and the
    # Caller (a frozen value naming the request's principal, and the role vocabulary: every
    # layer from the store up speaks of it, and it imports nothing).
    Layer("models", on=("base",), packages=("tables", "members.caller")),
    # The floor: writer, locks, version flags, keyset pages, cursors, filters, collections.
    Layer("store", on=("stix", "models"), packages=("store",)),
    # Policy documents, the engine, audience rows, visibility predicates, explain.
    Layer("policy", on=("store",), packages=("policy",)),
    # Members, groups, tokens, authentication: a Caller's groups include the policy's.
    Layer("members", on=("policy",), packages=("members",)),
    # Scheme, keys, key registry (keys belong to members), verification, the process pool.
    Layer("signing", on=("members",), packages=("signing",)),
    # The TAXII client shared by submit, delivery and feed pulls.
    Layer("client", on=("signing",), packages=("client",)),
    # The network view: canonical keys, contributions, corroboration, publisher, views.
    Layer("network", on=("signing",), packages=("dedup",)),
    # The hub's identity, key, publications and anonymous republications.
    Layer("hub", on=("network",), packages=("hub",)),
    # Push delivery to members' own systems.
    Layer("delivery", on=("hub", "client"), packages=("delivery",)),
    # Exports (EDL, CSV, STIX, Zeek, Suricata): lists read from members' network views.
    Layer("exports", on=("network",), packages=("exports",)),
    # What crosses domains: ingest, admin actions.
    Layer("flows", on=("delivery",), packages=("flows",)),
    # Feeds the hub pulls: definitions, principals and keys, pulls (through flows.ingest).
    Layer("feeds", on=("flows",), packages=("feeds",)),
    # Entry points: HTTP routers (every ``api`` module, see ENTRY), CLI, the worker and its
    # jobs, the app. They call one service or flow function each.
    Layer(
        "entry",
        on=("feeds", "exports"),
        packages=(
            "cli",
            "demo",
            "deps",
            "jobs",
            "main",
            "migrations",
            "soc",
            "taxii",
            "web",
            "worker",
        ),
    ),
)

MODELS = "models"
"""A module named ``models`` is in the models layer whatever its package: tables import
only tables and base utilities, and every service may name them (policy's predicates join
the network views; a new member gets a view-pending row)."""
ENTRY = "api"
"""A module named ``api`` (a domain's HTTP router) is an entry point whatever its package:
it may use the request dependencies and call flows."""

EXCEPTIONS: dict[tuple[str, str], str] = {}
"""(importer, imported) pairs the rule allows against the layers, each with its reason.
Empty: every import in src follows the layers."""


def _closure() -> dict[str, set[str]]:
    """Layer name -> the layers it may import (itself and everything below it)."""
    below = {layer.name: set(layer.on) for layer in LAYERS}
    allowed: dict[str, set[str]] = {}
    for layer in LAYERS:  # listed bottom-up, so every lower layer is already closed
        allowed[layer.name] = {layer.name}
        for lower in below[layer.name]:
            allowed[layer.name] |= allowed[lower]
    return allowed


ALLOWED = _closure()


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name (``cityshield.x.y``), or None if nobody placed it."""
    parts = module.split(".")[1:]
    if parts and parts[-1] == MODELS:
        return "models"
    if parts and parts[-1] == ENTRY:
        return "entry"
    best: tuple[int, str] | None = None
    for layer in LAYERS:
        for package in layer.packages:
            prefix = package.split(".") if package else []
            matches = parts[: len(prefix)] == prefix if prefix else not parts
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), layer.name)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((SRC / ROOT).rglob("*.py"))}


def packages_of(modules: dict[str, Path]) -> set[str]:
    return {name for name, path in modules.items() if path.name == "__init__.py"}


def imported_modules(source: str, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Every ``cityshield`` module ``source`` imports, anywhere in it (function bodies and
    ``TYPE_CHECKING`` blocks included). ``from a import b`` names ``a.b`` when that is a
    module, else ``a``; relative imports are resolved against ``module``."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {name for name in found if name == ROOT or name.startswith(ROOT + ".")}


def violations(
    modules: dict[str, str], known: set[str], packages: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """Broken rules among ``modules`` (name -> source), one line each; ``known`` names every
    module of src, ``packages`` those that are packages (for relative imports)."""
    problems: list[str] = []
    for module, source in sorted(modules.items()):
        importer = layer_of(module)
        if importer is None:
            problems.append(f"{module}: in no layer; place its package in LAYERS")
            continue
        for target in sorted(imported_modules(source, module, module in packages, known)):
            target_layer = layer_of(target)
            if target_layer is None:
                problems.append(f"{module} imports {target}, which is in no layer")
            elif target_layer not in ALLOWED[importer] and (module, target) not in EXCEPTIONS:
                problems.append(
                    f"{module} ({importer}) imports {target} ({target_layer}): "
                    f"{importer} may import only {', '.join(sorted(ALLOWED[importer]))}"
                )
    return problems


def test_every_import_in_src_follows_the_layers() -> None:
    modules = all_modules()
    sources = {name: path.read_text(encoding="utf-8") for name, path in modules.items()}
    problems = violations(sources, set(modules), packages_of(modules))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("cityshield.store.writer", "from cityshield.policy import service as policy"),
        ("cityshield.store.writer", "from cityshield.policy.service import readable"),
        ("cityshield.store.writer", "import cityshield.dedup.service"),
        ("cityshield.stix.vocabulary", "from cityshield.store.models import StixObject"),
        ("cityshield.dedup.models", "from cityshield.dedup.service import publish"),
        ("cityshield.policy.engine", "from cityshield.flows import ingest"),
        ("cityshield.store.writer", "def f():\n    from cityshield.hub import service"),
        ("cityshield.store.writer", "from ..policy import service"),
        ("cityshield.client.taxii", "from cityshield.dedup.service import publish"),
        ("cityshield.newthing", "import json"),
    ],
)
def test_an_upward_import_is_refused(module: str, line: str) -> None:
    """The rule is real: each of these, added to src, would fail the test above."""
    known = set(all_modules())
    assert violations({module: line + "\n"}, known | {module})


def test_an_import_of_a_lower_layer_is_allowed() -> None:
    known = set(all_modules())
    source = "from cityshield.store.writer import describe\nfrom cityshield import timefmt\n"
    assert violations({"cityshield.flows.ingest": source}, known) == []


def test_every_layer_is_placed_below_the_ones_that_use_it() -> None:
    names = [layer.name for layer in LAYERS]
    assert len(set(names)) == len(names)
    for position, layer in enumerate(LAYERS):
        assert set(layer.on) <= set(names[:position]), f"{layer.name} sits on a layer above it"
