"""Plain-text tables of one run's results (the same dict that is written as JSON)."""

from __future__ import annotations

from typing import Any


def table(title: str, headers: list[str], rows: list[list[str]]) -> str:
    """A left-aligned first column and right-aligned figures, widths fitted to content."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        figures = [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        return "  ".join([first.ljust(widths[0]), *figures])

    rule = "-" * len(line(headers))
    return "\n".join([f"\n{title}", rule, line(headers), rule, *map(line, rows), rule])


def num(value: float) -> str:
    return f"{value:,.0f}"


def _ingest_rate(ingest: dict[str, Any]) -> str:
    """Objects/s of accepted objects; refusals would mean the benchmark's input is wrong."""
    refused = f" ({ingest['failures']:,} refused)" if ingest.get("failures") else ""
    return ingest.get("error") or num(ingest["objects_per_s"]) + refused


def _read_rate(read: dict[str, Any]) -> str:
    return "timeout" if read["timed_out"] else num(read["objects_per_s"])


def _ratio(ours: float, theirs: float, timed_out: bool = False) -> str:
    if timed_out or not theirs:
        return "n/a"
    return f"{ours / theirs:,.1f}x"


def _time_ratio(ours: float, theirs: float | None) -> str:
    if not theirs:
        return "n/a"
    return f"{ours / theirs:.4f} ({theirs / ours:,.0f}x faster)"


def compare_table(result: dict[str, Any]) -> str:
    cs, md = result["cityshield"], result["medallion"]
    cs_read, md_read = cs["read"], md["read"]
    first = md_read["first_page_s"]
    md_first = "timeout" if first is None else f"{first:.3f}"
    md_total = f"{md_read['seconds']:.2f}" + (" (timeout)" if md_read["timed_out"] else "")
    rows = [
        [
            "ingest, 500-object envelopes, after the first (objects/s)",
            _ingest_rate(cs["ingest"]),
            _ingest_rate(md["ingest"]),
            _ratio(cs["ingest"]["objects_per_s"], md["ingest"]["objects_per_s"]),
        ],
        [
            "  the same into 'submissions' (feeds the network view)",
            _ingest_rate(cs["submissions"]),
            "",
            "",
        ],
        [
            "first envelope after start (s)",
            f"{cs['ingest']['first_envelope_s']:.3f}",
            f"{md['ingest']['first_envelope_s']:.3f}",
            "",
        ],
        [
            "paged read, limit=1000 (objects/s)",
            num(cs_read["objects_per_s"]),
            _read_rate(md_read),
            _ratio(cs_read["objects_per_s"], md_read["objects_per_s"], md_read["timed_out"]),
        ],
        [
            "time to first page (s)",
            f"{cs_read['first_page_s']:.3f}",
            md_first,
            _time_ratio(cs_read["first_page_s"], first),
        ],
        [
            "whole read (s, objects)",
            f"{cs_read['seconds']:.2f}, {cs_read['objects']:,}",
            f"{md_total}, {md_read['objects']:,}",
            "",
        ],
    ]
    title = f"1. cityshield vs medallion 3.0.0 (memory backend), {result['objects']:,} objects"
    return table(title, ["metric", "cityshield", "medallion", "cityshield/medallion"], rows)


def sizes_table(sizes: list[dict[str, Any]], backend: str) -> str:
    rows = []
    for row in sizes:
        windows = row["windows"]
        rows.append(
            [
                f"{row['size']:,}",
                f"{row['fill_s']:.1f}",
                num(row["fill_objects_per_s"] or 0),
                *(num(windows[name]["objects_per_s"]) for name in ("start", "middle", "end")),
                str(windows["end"]["pages"]),
                num(row["read"]["objects_per_s"]),
                f"{row['read']['ms_per_page']:.2f}",
                _ingest_rate(row["ingest"]),
            ]
        )
    headers = [
        "stored objects",
        "fill s",
        "fill/s",
        "read start/s",
        "middle/s",
        "end/s",
        "pages/window",
        "read all/s",
        "ms/page",
        "ingest/s",
    ]
    return table(f"2. cityshield by store size ({backend}), pages of 1000", headers, rows)


def _share(label: str, hub: float, ceiling: float) -> str:
    return f"{label} {hub / ceiling:.0%}" if hub else ""


def ceilings_table(results: dict[str, Any]) -> str:
    ceilings = results["ceilings"]
    sizes = results.get("sizes", [])
    best_ingest = max((row["ingest"]["objects_per_s"] for row in sizes), default=0)
    best_read = max((row["read"]["objects_per_s"] for row in sizes), default=0)
    sqlite, page = ceilings["sqlite_insert"], ceilings["page"]
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
            f"join 1000 pre-serialised objects ({page['page_bytes']:,} B)",
            f"{page['join_ms']} ms",
            "",
        ],
        [
            "static page round trip through uvicorn + client parse",
            f"{page['round_trip_ms']} ms",
            "",
        ],
        [
            "ceiling for serving a page (join + round trip)",
            f"{num(page['objects_per_s'])} objects/s",
            _share("hub read best", best_read, page["objects_per_s"]),
        ],
    ]
    return table(
        "3. this machine's ceilings (same run)", ["ceiling", "measured", "hub vs it"], rows
    )


def targets_table(targets: list[dict[str, Any]]) -> str:
    rows = [[t["target"], f"{t['measured']:,}", t["goal"], t["result"]] for t in targets]
    return table("4. targets", ["target", "measured", "goal", "result"], rows)


def print_report(results: dict[str, Any]) -> None:
    """Every section that was measured (a failed run prints what it has)."""
    machine = results["machine"]
    print(
        f"\ncityshield benchmark: backend {results['backend']}, {machine['cpus']} CPUs, "
        f"Python {machine['python']}, {machine['platform']}"
        + (" [quick]" if results["quick"] else "")
    )
    if "compare" in results:
        print(compare_table(results["compare"]))
    if "sizes" in results:
        print(sizes_table(results["sizes"], results["backend"]))
    if "ceilings" in results:
        print(ceilings_table(results))
    if "targets" in results:
        print(targets_table(results["targets"]))
    print(
        f"\ntotal run time: {results['seconds']:.0f} s; 1-minute load average "
        f"{results['load_average_start']} at start, {results.get('load_average_end')} at end "
        f"(other work on this machine skews every figure)"
    )
