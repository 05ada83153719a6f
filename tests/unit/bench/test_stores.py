"""bench/stores.py: the reads and the lookup share one city store while it is no larger than
what a section starts from, and a section that needs a smaller one gets a fresh store (the
old one's data directory removed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bench import stores


class FakeStore:
    def __init__(self, hub: Any, workdir: Path, overlap: float) -> None:
        self.hub, self.stored = hub, 0


def test_a_store_is_shared_while_small_enough_and_replaced_when_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened: list[str] = []
    closed: list[str] = []

    @contextmanager
    def hub(backend: str, url: str, *, workdir: Path) -> Iterator[str]:
        opened.append(url)
        yield url
        closed.append(url)

    urls = iter(["db1", "db2"])
    monkeypatch.setattr(stores, "initialised_hub", hub)
    monkeypatch.setattr(stores, "CityStore", FakeStore)
    with stores.CityStores("sqlite", lambda: next(urls), tmp_path, overlap=0.3) as shared:
        first = shared.at_most(20_000)
        first.stored = 1_000_000  # the reads grew it to 1M
        assert shared.at_most(1_000_000) is first  # the lookup reuses it
        assert closed == []
        second = shared.at_most(20_000)  # a section starting smaller gets a fresh store
        assert second is not first and second.hub == "db2"
        assert closed == ["db1"]
    assert opened == ["db1", "db2"] and closed == ["db1", "db2"]
