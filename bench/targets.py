"""Each target of ``bench/goals.py`` against what a run measured: PASS or MISS, per backend,
for the sections that were measured."""

from __future__ import annotations

from typing import Any

from bench.goals import (
    BULK_LOAD_PAGE_TARGET_MS,
    DEDUP_OVERHEAD_TARGET,
    FANOUT_INGEST_TARGET,
    FANOUT_TARGETS,
    FILTERED_READ_TARGET,
    FLAT_TARGET,
    INGEST_TARGET,
    LAG_TARGET_S,
    LOOKUP_TARGET_S,
    MEMORY_PER_MB_TARGET,
    NETWORK_READ_TARGET,
    SUBMISSIONS_READ_TARGET,
    URGENT_SUBMISSIONS,
    URGENT_TARGET_S,
)


def _target(
    name: str, backend: str, measured: float | str | None, goal: str, ok: bool
) -> dict[str, Any]:
    return {
        "target": name,
        "backend": backend,
        "measured": "n/a" if measured is None else measured,
        "goal": goal,
        "result": "PASS" if ok else "MISS",
    }


def _percent(value: float | None) -> str | None:
    return None if value is None else f"{value:.1%}"


def ingest_targets(backend: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    rate = result["ingest"]["submissions"]["objects_per_s"]
    goal = INGEST_TARGET[backend]
    lag = result["lag"]["p95_s"]
    overhead = result["dedup_overhead"]
    return [
        _target(
            "signed ingest into 'submissions', 500-object envelopes (objects/s)",
            backend,
            rate,
            f">= {goal:,}",
            rate >= goal,
        ),
        _target(
            "network lag, p95 over envelopes (s)",
            backend,
            None if lag is None else round(lag, 3),
            f"<= {LAG_TARGET_S}",
            lag is not None and lag <= LAG_TARGET_S,
        ),
        _target(
            f"dedup overhead at {result['known_iocs']:,} known IOCs",
            backend,
            _percent(overhead),
            f"<= {DEDUP_OVERHEAD_TARGET:.0%}",
            overhead is not None and overhead <= DEDUP_OVERHEAD_TARGET,
        ),
    ]


def read_targets(backend: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    sizes = result["sizes"]
    for row in sizes:
        at = f"{row['size']:,} stored"
        submissions = row["submissions_member"]["objects_per_s"]
        network = row["network_member"]["objects_per_s"]
        ratio = row["filtered_ratio"]
        found += [
            _target(
                f"paged read of 'submissions' as a member, {at} (objects/s)",
                backend,
                submissions,
                f">= {SUBMISSIONS_READ_TARGET:,}",
                submissions >= SUBMISSIONS_READ_TARGET,
            ),
            _target(
                f"paged read of 'network' as a member, per-viewer views, {at} (objects/s)",
                backend,
                network,
                f">= {NETWORK_READ_TARGET:,}",
                network >= NETWORK_READ_TARGET,
            ),
            _target(
                f"member (filtered) / admin (unfiltered) read of 'submissions', {at}",
                backend,
                _percent(ratio),
                f">= {FILTERED_READ_TARGET:.0%}",
                ratio is not None and ratio >= FILTERED_READ_TARGET,
            ),
        ]
        if backend == "postgres":
            slowest = row["after_bulk_load"]["slowest_page_ms"]
            found.append(
                _target(
                    f"slowest page right after a bulk load, {at} (ms)",
                    backend,
                    slowest,
                    f"<= {BULK_LOAD_PAGE_TARGET_MS:.0f}",
                    slowest <= BULK_LOAD_PAGE_TARGET_MS,
                )
            )
    if len(sizes) > 1:
        first, last = sizes[0]["submissions_member"], sizes[-1]["submissions_member"]
        if first["ms_per_page"]:
            flat = round(last["ms_per_page"] / first["ms_per_page"], 2)
            found.append(
                _target(
                    f"page cost ratio, {sizes[0]['size']:,} -> {sizes[-1]['size']:,} stored",
                    backend,
                    flat,
                    f"<= {FLAT_TARGET}",
                    flat <= FLAT_TARGET,
                )
            )
    return found


def lookup_target(backend: str, result: dict[str, Any]) -> dict[str, Any]:
    """The bulk-lookup goal holds for the full request against the full store only."""
    full = result["values"] >= 10_000 and result["size"] >= 1_000_000
    return _target(
        f"bulk lookup of {result['values']:,} values, {result['size']:,} stored (p95 s)",
        backend,
        result["p95_s"],
        f"<= {LOOKUP_TARGET_S} at 10,000 values, 1,000,000 stored",
        full and result["p95_s"] <= LOOKUP_TARGET_S,
    )


def delivery_targets(backend: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 12's two goals hold at 20 push targets and webhooks (and 20 urgent
    submissions) only; a smaller run (``--quick``) only proves the section works."""
    n, ratio, urgent = result["targets"], result["ratio"], result["urgent"]
    p95, count = urgent["all_p95_s"], urgent["count"]
    full = n >= FANOUT_TARGETS
    return [
        _target(
            f"ingest with {n} push targets / without, same envelopes",
            backend,
            _percent(ratio),
            f">= {FANOUT_INGEST_TARGET:.0%} with {FANOUT_TARGETS} targets",
            full and ratio is not None and ratio >= FANOUT_INGEST_TARGET,
        ),
        _target(
            f"urgent 202 -> all {n} TAXII targets and {n} webhooks, p95 of {count} (s)",
            backend,
            None if p95 is None else round(p95, 3),
            f"<= {URGENT_TARGET_S} with {FANOUT_TARGETS} each, {URGENT_SUBMISSIONS}+ submissions",
            full and count >= URGENT_SUBMISSIONS and p95 is not None and p95 <= URGENT_TARGET_S,
        ),
    ]


def targets(backends: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every target of the sections measured, backend by backend."""
    found: list[dict[str, Any]] = []
    for backend, sections in backends.items():
        if "ingest" in sections:
            found += ingest_targets(backend, sections["ingest"])
        if "reads" in sections:
            found += read_targets(backend, sections["reads"])
        if "lookup" in sections:
            found.append(lookup_target(backend, sections["lookup"]))
        if "delivery" in sections:
            found += delivery_targets(backend, sections["delivery"])
        peak = sections.get("memory", {}).get("peak_per_mb")
        if peak is not None:
            found.append(
                _target(
                    "peak memory per MB posted (API process, MB)",
                    backend,
                    peak,
                    f"<= {MEMORY_PER_MB_TARGET}",
                    peak <= MEMORY_PER_MB_TARGET,
                )
            )
    return found
