"""Plain-text tables of one run's results (the same dict that is written as JSON)."""

from __future__ import annotations

from typing import Any

from bench.goals import DEDUP_OVERHEAD_TARGET, FILTERED_READ_TARGET, INGEST_TARGET
from bench.memory import memory_table


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


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def signed_table(signed: dict[str, Any]) -> str:
    """Signed ingest, its raw ceilings, dedup overhead and publication (section 4)."""
    raw, plain, dedup = signed["signature_ceilings"], signed["plain"], signed["submissions"]
    overhead, publish = signed["dedup_overhead"], signed["publish"]
    per_object = f"{1e6 / plain['objects_per_s']:.0f} us/object" if plain["objects_per_s"] else ""
    rows = [
        [
            "signed ingest into a plain collection (objects/s)",
            _ingest_rate(plain),
            f"{plain['objects']:,} objects, {per_object}",
            f">= {INGEST_TARGET:,}",
            _verdict(plain["objects_per_s"] >= INGEST_TARGET),
        ],
        [
            "  ceiling: Ed25519 verify, one core (verifications/s)",
            num(raw["verify_per_s"]),
            f"{raw['message_bytes']} B messages, {1e6 / raw['verify_per_s']:.0f} us each",
            "",
            "",
        ],
        [
            "  ceiling: RFC 8785 with the rfc8785 package, one core (objects/s)",
            num(raw["rfc8785_per_s"]),
            f"{1e6 / raw['rfc8785_per_s']:.0f} us each",
            "",
            "",
        ],
        [
            "  ceiling: RFC 8785 with cityshield canonical_json, one core (objects/s)",
            num(raw["canonical_json_per_s"]),
            f"{1e6 / raw['canonical_json_per_s']:.0f} us each",
            "",
            "",
        ],
        [
            f"  ceiling: verify + canonical_json on all {raw['cores']} cores (objects/s)",
            num(raw["both_cores_objects_per_s"]),
            _share("ingest is", plain["objects_per_s"], raw["both_cores_objects_per_s"]),
            "",
            "",
        ],
        [
            "the same into 'submissions', feeding dedup (objects/s)",
            _ingest_rate(dedup),
            f"{dedup['objects']:,} objects",
            "",
            "",
        ],
        [
            "dedup overhead (extra time per object vs plain)",
            "n/a" if overhead is None else f"{overhead:.1%}",
            f"from median envelopes: {_percent(signed.get('dedup_overhead_median_envelope'))}",
            f"<= {DEDUP_OVERHEAD_TARGET:.0%}",
            _verdict(overhead is not None and overhead <= DEDUP_OVERHEAD_TARGET),
        ],
        [
            "publish_pending after the ingest (network indicators/s)",
            num(publish["published_per_s"]),
            f"{publish['published']:,} published in {publish['seconds']:.2f} s",
            "none: off the ingest path",
            "",
        ],
    ]
    title = (
        f"4. signed ingest: {signed['envelopes']} x 2 envelopes of {signed['envelope_objects']} "
        f"realistic reports ({signed['overlap']:.0%} repeating known IOCs) over HTTP, "
        "alternating plain / 'submissions'"
    )
    return table(title, ["figure", "measured", "detail", "target", "result"], rows)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _read_detail(read: dict[str, Any], total: int | None = None) -> str:
    share = f" ({read['objects'] / total:.0%} of the store)" if total else ""
    late = " before the deadline" if read["timed_out"] else ""
    return f"{read['objects']:,} objects{share}{late}, {read['ms_per_page']:.2f} ms/page"


def policy_table(result: dict[str, Any]) -> str:
    """Reads of a policy-filtered store vs the same store unfiltered (section 5)."""
    fill, publish = result["fill"], result["publish"]
    member, admin = result["submissions"]["member"], result["submissions"]["admin"]
    network, ratio = result["network"], result["filtered_ratio"]
    size = result["size"]
    rows = [
        [
            "fill: add_objects in-process, feeding dedup (objects/s)",
            num(fill["objects_per_s"]),
            f"{fill['objects']:,} objects in batches of {fill['batch']:,}",
            "",
            "",
        ],
        [
            "publish_pending over the whole store (network indicators/s)",
            num(publish["published_per_s"]),
            f"{publish['published']:,} published in {publish['seconds']:.2f} s",
            "none: off the ingest path",
            "",
        ],
        [
            "read 'submissions' as an admin, unfiltered (objects/s)",
            num(admin["objects_per_s"]),
            _read_detail(admin, size),
            "",
            "",
        ],
        [
            f"read 'submissions' as member {result['reader']}, filtered (objects/s)",
            num(member["objects_per_s"]),
            _read_detail(member, size),
            "",
            "",
        ],
        [
            "  filtered / unfiltered (objects/s)",
            f"{ratio:.1%}",
            "",
            f">= {FILTERED_READ_TARGET:.0%}",
            _verdict(ratio >= FILTERED_READ_TARGET),
        ],
        [
            f"read 'network' as member {result['reader']} (objects/s)",
            num(network["member"]["objects_per_s"]),
            _read_detail(network["member"]),
            "",
            "",
        ],
        [
            "read 'network' as an admin (objects/s)",
            num(network["admin"]["objects_per_s"]),
            _read_detail(network["admin"]),
            "",
            "",
        ],
    ]
    title = (
        f"5. reads under a sharing policy: {size:,} reports by {result['members']} members, "
        "TLP mixed, pages of 1000"
    )
    return table(title, ["figure", "measured", "detail", "target", "result"], rows)


def targets_table(targets: list[dict[str, Any]]) -> str:
    rows = [[t["target"], _figure(t["measured"]), t["goal"], t["result"]] for t in targets]
    return table("7. targets", ["target", "measured", "goal", "result"], rows)


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
    if "signed" in results:
        print(signed_table(results["signed"]))
    if "policy" in results:
        print(policy_table(results["policy"]))
    if "memory" in results:
        print(memory_table(results["memory"]))
    if results.get("targets"):
        print(targets_table(results["targets"]))
    if results.get("load"):
        print(load_table(results["load"]))
    print(
        f"\ntotal run time: {results['seconds']:.0f} s; 1-minute load average "
        f"{results['load_average_start']} at start, {results.get('load_average_end')} at end "
        f"(other work on this machine skews every figure)"
    )
