"""Plain-text tables of one run's results (the same dict that is written as JSON)."""

from __future__ import annotations

from typing import Any

from bench.delivery_report import fanout_table, urgent_table
from bench.memory import memory_table

PEERS = {
    "medallion": "medallion 3.0.0 (memory backend, its own server)",
    "opentaxii": "OpenTAXII 0.9.3 (TAXII 2.1, SQLite, gunicorn)",
}


def table(title: str, headers: list[str], rows: list[list[str]]) -> str:
    """A left-aligned first column and right-aligned figures, widths fitted to content."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        figures = [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        return "  ".join([first.ljust(widths[0]), *figures])

    rule = "-" * len(line(headers))
    return "\n".join([f"\n{title}", rule, line(headers), rule, *map(line, rows), rule])


def num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def seconds(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _runs(spread: dict[str, float | None]) -> str:
    if spread["median"] is None:
        return "n/a"
    return f"{num(spread['median'])} ({num(spread['min'])}-{num(spread['max'])})"


def ingest_cells(figures: dict[str, Any]) -> list[str]:
    refused = f" ({figures['failures']:,} refused)" if figures.get("failures") else ""
    error = f" [{figures['error']}]" if figures.get("error") else ""
    return [num(figures["objects_per_s"]) + refused + error, _runs(figures["runs_objects_per_s"])]


def _read_cells(read: dict[str, Any] | None) -> list[str]:
    if read is None:
        return ["", ""]
    late = " (deadline)" if read["timed_out"] else ""
    error = f" [{read['error']}]" if read.get("error") else ""
    detail = f"{read['objects']:,} objects, {read['seconds']:.1f} s{late}{error}"
    return [num(read["objects_per_s"]), detail]


def ingest_table(result: dict[str, Any], backend: str) -> str:
    """Section 1: every server's ingest and read, one row each."""
    ingest, reads = result["ingest"], result["reads"]
    names = {
        "submissions": f"cityshield serve ({backend}): 'submissions', feeds the network",
        "plain": f"cityshield serve ({backend}): a plain writable collection",
        **PEERS,
    }
    rows = [
        [label, *ingest_cells(ingest[name]), *_read_cells(reads.get(name))]
        for name, label in names.items()
        if name in ingest
    ]
    rows += [[PEERS[name], why, "", "", ""] for name, why in result["unavailable"].items()]
    title = (
        f"1. signed ingest as served, {result['runs']} runs x {result['envelopes_per_run']} "
        f"envelopes of {result['envelope_objects']} realistic reports ({result['overlap']:.0%} "
        f"repeating {result['known_iocs']:,} known IOCs), servers alternating run by run; "
        "then one paged read of each collection, limit=1000"
    )
    headers = ["server", "ingest/s", "per run: median (min-max)", "read/s", "read"]
    return table(title, headers, rows)


def lag_table(result: dict[str, Any]) -> str:
    """Section 1, continued: network lag per run and the dedup overhead."""
    lag = result["lag"]
    rows = []
    for i, run in enumerate(result["lag"]["runs"], 1):
        known = [v for v in run["lag_s"] if v is not None]
        rows.append(
            [
                f"run {i}: lag per envelope, min / max (s)",
                f"{seconds(min(known, default=None))} / {seconds(max(known, default=None))}",
                f"last POST's 202 -> all visible: {seconds(run['after_last_post_s'])} s, "
                f"{run['polls']:,} polls",
            ]
        )
    missing = f", {lag['not_seen']} never seen" if lag["not_seen"] else ""
    rows += [
        [
            "network lag over all envelopes, p50 / p95 / max (s)",
            f"{seconds(lag['p50_s'])} / {seconds(lag['p95_s'])} / {seconds(lag['max_s'])}",
            f"{lag['envelopes']} envelopes{missing}",
        ],
        [
            "dedup overhead: plain rate / 'submissions' rate - 1",
            "n/a" if result["dedup_overhead"] is None else f"{result['dedup_overhead']:.1%}",
            f"{result['known_iocs']:,} known IOCs, published in "
            f"{seconds(result['known_published_s'])} s after their fill",
        ],
    ]
    title = "1b. network lag (202 -> every countable report in the poster's network view)"
    return table(title, ["figure", "measured", "detail"], rows)


def _views(row: dict[str, Any]) -> str:
    views = row.get("published", {}).get("views")
    return "n/a" if views is None else f"{views:,}"


def reads_table(result: dict[str, Any], backend: str) -> str:
    """Section 2: reads by store size."""
    rows = []
    for row in result["sizes"]:
        after = row["after_bulk_load"]
        rows.append(
            [
                f"{row['size']:,}",
                num(row["fill"]["objects_per_s"]) if row["fill"]["objects"] else "(filled)",
                f"{seconds(row['worker_caught_up_s'], 1)} ({_views(row)})",
                num(row["submissions_member"]["objects_per_s"]),
                num(row["submissions_admin"]["objects_per_s"]),
                "n/a" if row["filtered_ratio"] is None else f"{row['filtered_ratio']:.0%}",
                f"{num(row['network_member']['objects_per_s'])} "
                f"({row['network_member']['objects']:,})",
                f"{row['submissions_member']['ms_per_page']:.1f}",
                f"{after['slowest_page_ms']:.0f}",
            ]
        )
    headers = [
        "stored reports",
        "fill/s",
        "worker caught up s (views)",
        "subm. member/s",
        "subm. admin/s",
        "member/admin",
        "network member/s (objects)",
        "ms/page",
        "slowest page after load ms",
    ]
    title = (
        f"2. paged reads as served ({backend}), limit=1000 following next, as member "
        f"{result['reader']} ({result['members']} cities under a policy) and as the admin; "
        "median of the runs"
    )
    return table(title, headers, rows)


def _share(label: str, hub: float, ceiling: float) -> str:
    return f"{label} {hub / ceiling:.0%}" if hub and ceiling else ""


def ceilings_table(sections: dict[str, Any]) -> str:
    ceilings = sections["ceilings"]
    ingest = sections.get("ingest", {}).get("ingest", {})
    best_ingest = max((v["objects_per_s"] for v in ingest.values()), default=0)
    sizes = sections.get("reads", {}).get("sizes", [])
    best_read = max((r["submissions_admin"]["objects_per_s"] for r in sizes), default=0)
    sqlite, page, raw = ceilings["sqlite_insert"], ceilings["page"], ceilings["signatures"]
    rows = [
        [
            f"sqlite3 executemany, {sqlite['rows']:,} equivalent rows, 1 transaction",
            f"{num(sqlite['rows_per_s'])} rows/s",
            _share("hub ingest best", best_ingest, sqlite["rows_per_s"]),
        ]
    ]
    if "postgres_insert" in ceilings:
        pg = ceilings["postgres_insert"]
        rows.append(
            [
                f"psycopg executemany, {pg['rows']:,} equivalent rows, 1 transaction",
                f"{num(pg['rows_per_s'])} rows/s",
                _share("hub ingest best", best_ingest, pg["rows_per_s"]),
            ]
        )
    rows += [
        [
            f"join 1000 pre-serialised objects ({page['page_bytes']:,} B) + static page "
            "round trip through uvicorn + client parse",
            f"{page['join_ms']} + {page['round_trip_ms']} ms",
            "",
        ],
        [
            "ceiling for serving a page (join + round trip)",
            f"{num(page['objects_per_s'])} objects/s",
            _share("hub read best", best_read, page["objects_per_s"]),
        ],
        [
            f"Ed25519 verify, one core ({raw['message_bytes']} B messages)",
            f"{num(raw['verify_per_s'])} /s",
            "",
        ],
        ["RFC 8785, rfc8785 package, one core", f"{num(raw['rfc8785_per_s'])} objects/s", ""],
        [
            "RFC 8785, cityshield canonical_json, one core",
            f"{num(raw['canonical_json_per_s'])} objects/s",
            "",
        ],
        [
            f"verify + canonical_json on all {raw['cores']} cores",
            f"{num(raw['both_cores_objects_per_s'])} objects/s",
            _share("hub ingest best", best_ingest, raw["both_cores_objects_per_s"]),
        ],
    ]
    return table("3. this machine's ceilings (same run)", ["ceiling", "measured", "hub"], rows)


def lookup_table(result: dict[str, Any], backend: str) -> str:
    """Bulk lookup as served: the store, the request and its timings."""
    row = [
        f"{result['size']:,}",
        f"{result['values']:,}",
        f"{result['known']:,}",
        str(result["runs"]),
        seconds(result["median_s"], 3),
        seconds(result["p95_s"], 3),
        seconds(result["max_s"], 3),
    ]
    headers = ["stored", "values", "known", "runs", "median s", "p95 s", "max s"]
    return table(f"{backend}: bulk lookup (POST /api/v1/lookup)", headers, [row])


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def feeds_table(result: dict[str, Any], backend: str) -> str:
    """Section 6: the worker's import of one large text feed, then the 304 pull."""
    pull, memory, again = result["pull"], result["memory"], result["not_modified"]
    late = "" if pull["finished"] else " (not finished: timeout)"
    error = f" [{pull['error']}]" if pull.get("error") else ""
    rows = [
        [
            "pull by the served worker: start -> every value stored (health)",
            f"{seconds(pull['seconds'], 1)} s",
            f"{num(pull['objects_per_s'])} objects/s; added {num(pull['added'])}, refused "
            f"{num(pull['rejected'])}{late}{error}",
        ],
        [
            "worker RSS: idle -> peak at the pull's end (VmHWM)",
            f"{_mb(memory['worker_idle_mb'])} -> {_mb(memory['peak_mb'])} MB",
            f"+{_mb(memory['peak_above_idle_mb'])} MB, {num(memory['bytes_per_value'])} B a value; "
            f"after publication {_mb(memory['peak_after_publication_mb'])} MB"
            + ("" if memory.get("reset", True) else " (VmHWM not reset: peaks overstated)"),
        ],
        [
            "then until the worker published every value's views",
            f"{seconds(result['published_s'], 1)} s",
            f"{num(result['published']['network_iocs'])} network IOCs, "
            f"{num(result['published']['views'])} members' views",
        ],
        [
            "second pull, 'cityshield feeds run' (304): the pull (health)",
            f"{seconds(again.get('seconds'), 2)} s",
            f"not modified: {again.get('not_modified')}, added {again.get('added')}"
            + (f" [{again['error']}]" if again.get("error") else ""),
        ],
        [
            "second pull: the command's wall time, peak RSS",
            f"{seconds(again.get('command_s'), 2)} s",
            f"{_mb(again.get('command_peak_mb'))} MB",
        ],
    ]
    title = (
        f"6. feed import as served ({backend}): a {result['lines']:,}-line text feed of "
        f"{result['type']} ({result['bytes'] / 1e6:.1f} MB) from an HTTP server on 127.0.0.1"
    )
    return table(title, ["figure", "measured", "detail"], rows)


def exports_table(result: dict[str, Any], backend: str) -> str:
    """Section 7: one member's EDL, whole, cut by ``max``, collapsed, and its 304."""
    names = {
        "whole": "whole list",
        "capped": f"max={result['max']:,}",
        "collapse": "collapse=true",
    }
    rows = []
    for name, label in names.items():
        figures = result[name]
        rows.append(
            [
                label,
                str(figures["status"]),
                f"{seconds(figures['median_s'], 3)} ({seconds(figures['min_s'], 3)}-"
                f"{seconds(figures['max_s'], 3)})",
                f"{figures['lines']:,}",
                f"{figures['bytes'] / 1e6:.2f}",
            ]
        )
    again = result["not_modified"]
    rows.append(
        [
            "If-None-Match (the whole list's ETag)",
            str(again["status"]),
            f"{1000 * again['median_s']:.1f} ms ({1000 * again['min_s']:.1f}-"
            f"{1000 * again['max_s']:.1f})",
            f"{again['lines']:,}",
            f"{again['bytes'] / 1e6:.2f}",
        ]
    )
    title = (
        f"7. EDL export as served ({backend}): GET /api/v1/export/edl as {result['reader']}, "
        f"{result['values']:,} IPv4 values in its views; median (min-max) of "
        f"{result['whole']['runs']} runs, {again['runs']} for the 304"
    )
    return table(title, ["request", "status", "time s", "lines", "MB"], rows)


def targets_table(targets: list[dict[str, Any]]) -> str:
    rows = [
        [t["target"], t["backend"], _figure(t["measured"]), t["goal"], t["result"]] for t in targets
    ]
    missed = sum(1 for t in targets if t["result"] == "MISS")
    title = f"targets ({missed} of {len(targets)} missed)"
    return table(title, ["target", "backend", "measured", "goal", "result"], rows)


def _figure(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def load_table(sections: dict[str, dict[str, Any]]) -> str:
    """Per section: its duration, the load average at both ends, and CPU cores used by the
    benchmark (client, servers, workers) and by other processes meanwhile."""
    rows = [
        [
            name,
            f"{figures['seconds']:.0f}",
            f"{figures['load_average_start']} -> {figures['load_average_end']}",
            f"{figures.get('bench_cores', 'n/a')}",
            f"{figures.get('other_cores', 'n/a')}",
        ]
        for name, figures in sections.items()
    ]
    headers = ["section", "s", "load average", "bench cores", "other processes' cores"]
    return table("machine load by section", headers, rows)


def print_report(results: dict[str, Any]) -> None:
    """Every section that was measured (a failed run prints what it has)."""
    machine = results["machine"]
    print(
        f"\ncityshield benchmark, as served: {machine['cpus']} CPUs, Python "
        f"{machine['python']}, {machine['platform']}" + (" [quick]" if results["quick"] else "")
    )
    for backend, sections in results.get("backends", {}).items():
        if "ingest" in sections:
            print(ingest_table(sections["ingest"], backend))
            print(lag_table(sections["ingest"]))
        if "reads" in sections:
            print(reads_table(sections["reads"], backend))
        if "ceilings" in sections:
            print(ceilings_table(sections))
        if "memory" in sections:
            print(memory_table(sections["memory"]))
        if "lookup" in sections:
            print(lookup_table(sections["lookup"], backend))
        if "feeds" in sections:
            print(feeds_table(sections["feeds"], backend))
        if "exports" in sections:
            print(exports_table(sections["exports"], backend))
        if "delivery" in sections:
            print(fanout_table(sections["delivery"], backend))
            print(urgent_table(sections["delivery"], backend))
    for note in results.get("notes", []):
        print(f"\nnote: {note}")
    if results.get("targets"):
        print(targets_table(results["targets"]))
    if results.get("load"):
        print(load_table(results["load"]))
    took = results.get("seconds")
    print(
        f"\ntotal run time: {'n/a (cut short)' if took is None else f'{took:.0f} s'}; "
        "1-minute load average "
        f"{results['load_average_start']} at start, {results.get('load_average_end')} at end "
        f"(other work on this machine skews every figure)"
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.report [FILE]``: print a results file again (default: the last
    run's), targets included, even if the run was cut short."""
    import json
    import sys
    from pathlib import Path

    from bench.targets import targets

    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path(__file__).resolve().parent / "results" / "latest.json"
    results = json.loads(path.read_text())
    results["targets"] = targets(results.get("backends", {}))
    print_report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
