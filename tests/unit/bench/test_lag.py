"""bench/lag.py and the percentile of bench/served_ingest.py: which reports the network
lag waits for, and how the p95 ranks envelopes never seen."""

from __future__ import annotations

from bench.lag import counted_ids
from bench.served_ingest import percentile
from bench.stix import TLP_AMBER, TLP_GREEN, TLP_RED


def test_red_reports_are_not_waited_for_and_unmarked_ones_are() -> None:
    objects = [
        {"id": "green", "object_marking_refs": [TLP_GREEN]},
        {"id": "amber", "object_marking_refs": [TLP_AMBER]},
        {"id": "red", "object_marking_refs": [TLP_RED]},
        {"id": "unmarked"},
    ]
    assert counted_ids(objects) == {"green", "amber", "unmarked"}


def test_percentile_is_nearest_rank_and_a_missing_value_ranks_last() -> None:
    values: list[float | None] = [float(i) for i in range(1, 21)]
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile([*values[:19], None], 0.95) == 19.0
    assert percentile([*values[:18], None, None], 0.95) is None
    assert percentile([], 0.95) is None
