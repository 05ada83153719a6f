"""The city store the reads (section 2) and the bulk lookup (section 5) share, per backend.

Both sections measure one kind of store: the eight cities of :data:`bench.network.CITIES`,
an admin, :data:`bench.network.POLICY`, and ``submissions`` bulk-loaded in-process by one
:class:`bench.network.Reporter` (round-robin batches, 30% repeated IOCs, the TLP mix).
Filling 1,000,000 reports and publishing their network view is most of a full run, so the
store is filled once: the reads grow it through their sizes, and the lookup then finds it
at 1,000,000 already published (it grows it if the reads stopped short, say with
``--sizes 20000,200000``). A store larger than a section's smallest size is never reused
(stores only grow); that section gets a fresh one, so every figure still means what it
meant when each section filled its own.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.hubs import network_context
from bench.network import READER, Reporter, add_cities, load_policy
from bench.served import initialised_hub
from tests.utils.server import Hub, TestMember

SEED = 1918


class CityStore:
    """One initialised (not served) hub with the cities, an admin and the policy, and the
    reporter that fills its ``submissions``."""

    def __init__(self, hub: Hub, workdir: Path, overlap: float, seed: int = SEED) -> None:
        self.hub = hub
        self.members = add_cities(hub)
        self.admin = hub.member(role="admin", name="hub-admin")
        load_policy(hub, workdir)
        self.reporter = Reporter(
            hub, self.members, network_context(hub), random.Random(seed), overlap
        )
        self.stored = 0
        self.filled_by: list[dict[str, Any]] = []
        """Who grew the store, to what size, at what in-process rate."""

    @property
    def reader(self) -> TestMember:
        return self.members[READER]

    def grow(self, size: int, *, section: str) -> dict[str, Any]:
        """Fill ``submissions`` up to ``size`` reports (serve must be stopped: a bulk
        load); the fill's figures (no objects if it was already that large)."""
        if size < self.stored:
            raise ValueError(f"the store holds {self.stored:,} reports, more than {size:,}")
        fill = self.reporter.fill(size - self.stored)
        self.stored = size
        if fill["objects"]:
            self.filled_by.append({"section": section, "size": size, **fill})
        return fill


class CityStores:
    """The shared store of one backend's run: at most one open at a time."""

    def __init__(
        self, backend: str, new_db: Callable[[], str], workdir: Path, *, overlap: float
    ) -> None:
        self.backend, self.new_db, self.workdir, self.overlap = backend, new_db, workdir, overlap
        self._stack = ExitStack()
        self._store: CityStore | None = None

    def at_most(self, size: int) -> CityStore:
        """The shared store if it holds at most ``size`` reports, else a fresh one."""
        if self._store is not None and self._store.stored <= size:
            return self._store
        self.close()
        hub = self._stack.enter_context(
            initialised_hub(self.backend, self.new_db(), workdir=self.workdir)
        )
        self._store = CityStore(hub, self.workdir, self.overlap)
        return self._store

    def close(self) -> None:
        """Drop the store (its data directory; the database stays until the run ends)."""
        self._store = None
        self._stack.close()
        self._stack = ExitStack()

    def __enter__(self) -> CityStores:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
