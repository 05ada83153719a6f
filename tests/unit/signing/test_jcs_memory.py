"""canonical_json's result costs about its length in memory.

A batch verification holds one signing input per object until the whole envelope is
checked; orjson hands back its bytes in an ~8 KiB allocation whatever their length, which
made a 600-byte input cost 8 KiB (13x the posted size at peak for a large envelope).
"""

from __future__ import annotations

import tracemalloc

from cityshield.signing.jcs import canonical_json


def test_signing_inputs_are_held_at_their_size() -> None:
    values = [{"type": "indicator", "n": i, "name": "x" * 600} for i in range(500)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        held = [canonical_json(value) for value in values]
        cost = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert cost < 2 * sum(len(data) for data in held), cost / len(held)
