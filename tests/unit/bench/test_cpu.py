"""``python -m bench.cpu`` measures what it says: the timed envelopes are ingested and their
IOCs published (and, with two cities, each city gets views), on a hub database of its own."""

from __future__ import annotations

from pathlib import Path

from bench.cpu import run


def test_a_small_run_ingests_and_publishes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    result = run(url, tmp_path, seed=500, timed=500, profile="", sort="cumulative", cities=2)
    assert result["objects"] == 500
    assert 0 < result["iocs_published"] <= 500
    assert result["views_written"] >= result["iocs_published"]
    assert result["publish_cpu_us_per_ioc"] > 0
