"""The targets the hub is held to (the run prints each figure next to its target)."""

READ_TARGET = 100_000
"""Paged reads, objects/s, at every store size."""
FLAT_TARGET = 1.5
"""Per-page time at the largest store size over that at the smallest, at most."""
INGEST_TARGET = 5_000
"""Ingest in 500-object envelopes, objects/s (signed, verified, validated, stored)."""
DEDUP_OVERHEAD_TARGET = 0.25
"""Extra time per object of ingest into ``submissions`` (feeding dedup) over a plain
collection, at most."""
FILTERED_READ_TARGET = 0.80
"""Paged reads as an ordinary member under a sharing policy, as a share of the same reads
unfiltered (as an admin), at least."""
MEMORY_PER_MB_TARGET = 10.0
"""Peak memory of the hub's process per MB of envelope posted, at most (the parsed objects
alone are ~3.2 MB per MB; with the 10 MiB default limit this bounds one POST to ~100 MB)."""
