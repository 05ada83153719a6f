"""Section 8 as printed: ingest with and without push targets, and the urgent latency."""

from __future__ import annotations

from typing import Any


def _legs(result: dict[str, Any], into: str) -> list[str]:
    """Per run into one hub: settled after the last 202, each hub's CPU, what arrived."""
    from bench.report import seconds

    legs = [leg for leg in result["legs"] if leg["into"] == into]
    other = "with" if into == "without" else "without"
    return [
        " / ".join(seconds(leg["settled_after_last_s"]) for leg in legs),
        " / ".join(f"{leg['cpu_s'][into]:.1f}+{leg['cpu_s'][other]:.1f}" for leg in legs),
        f"{sum(leg['objects_arrived'] for leg in legs):,}" if into == "with" else "",
    ]


def fanout_table(result: dict[str, Any], backend: str) -> str:
    """Ingest into a hub with push targets against the same envelopes into one without."""
    from bench.report import ingest_cells, table  # late: bench.report imports this module

    n, ingest = result["targets"], result["ingest"]
    hooks = "urgent-only " if result["webhooks_urgent_only"] else ""
    ratio = "n/a" if result["ratio"] is None else f"{result['ratio']:.1%}"
    rows = [
        ["without push targets", *ingest_cells(ingest["without"]), *_legs(result, "without")],
        [
            f"with {n} push targets and {n} {hooks}webhooks",
            *ingest_cells(ingest["with"]),
            *_legs(result, "with"),
        ],
        ["with / without", ratio, "", "", "", ""],
    ]
    title = (
        f"8. push fan-out as served ({backend}): {result['runs']} runs x "
        f"{result['envelopes_per_run']} envelopes of {result['envelope_objects']} realistic "
        "reports into two hubs, alternating run by run, the same envelopes; each run waits "
        "until its hub has published (and delivered) them"
    )
    headers = [
        "hub",
        "ingest/s",
        "per run: median (min-max)",
        "settled after last 202, s per run",
        "CPU s per run: this hub + the other",
        "objects to receivers",
    ]
    return table(title, headers, rows)


def urgent_table(result: dict[str, Any], backend: str) -> str:
    """The urgent submissions' time to every endpoint, and what surrounded them."""
    from bench.report import seconds, table

    urgent, n = result["urgent"], result["targets"]
    background = urgent["background"]
    rows = [
        [
            label,
            seconds(urgent[f"{key}_p50_s"]),
            seconds(urgent[f"{key}_p95_s"]),
            seconds(urgent[f"{key}_max_s"]),
        ]
        for key, label in (
            ("all", f"all {n} TAXII targets and {n} webhooks"),
            ("taxii", f"{n} TAXII targets"),
            ("webhook", f"{n} webhooks"),
        )
    ]
    notes = [
        f"{urgent['honoured']} of {urgent['count']} honoured as urgent",
        f"{urgent['not_arrived']} not everywhere within {urgent['deadline_s']:.0f} s",
        f"background {background['objects_per_s']:,.0f} objects/s in envelopes of "
        f"{result['background_size']}"
        + (
            f", stopped before {urgent['without_background']}"
            if urgent["without_background"]
            else ""
        ),
    ]
    if result["target_errors"]:
        notes.append(f"{len(result['target_errors'])} targets failed at least once")
    title = (
        f"8b. urgent submission, 202 -> arrival ({backend}): {urgent['count']} one-indicator "
        f"submissions one by one under steady background ingest ({'; '.join(notes)})"
    )
    return table(title, ["arrived at", "p50 s", "p95 s", "max s"], rows)
