"""Batch signature verification, fanned out to a pool of worker processes.

Ed25519 verification (~100 µs an object) dominates ingest of large envelopes; the GIL keeps
threads from sharing it, so batches above :data:`PARALLEL_THRESHOLD` go to processes.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cityshield.signing.errors import SignatureError
from cityshield.signing.jwk import kid_for_raw
from cityshield.signing.scheme import invalid_signature, verification_job, verify_object

__all__ = ["PARALLEL_THRESHOLD", "shutdown_pool", "start_pool", "verify_many"]

JSONObject = dict[str, Any]

#: Batches larger than this are verified in a process pool (when more than one core is usable).
PARALLEL_THRESHOLD = 256

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _get_pool() -> ProcessPoolExecutor:
    """Create the shared pool on first use.

    forkserver (where available) rather than fork: the hub process runs threads (server,
    DB pools), and forking a threaded process can leave a child holding a dead lock.
    """
    global _pool
    with _pool_lock:
        if _pool is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            _pool = ProcessPoolExecutor(max_workers=_usable_cpus(), mp_context=ctx)
        return _pool


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    """Drop a broken pool, unless another thread already replaced it."""
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def start_pool() -> None:
    """Start the verification workers now (app start-up), so the first large envelope does
    not pay for process start-up."""
    if _usable_cpus() >= 2:
        pool = _get_pool()
        list(pool.map(_verify_chunk, [[]] * _usable_cpus()))


def shutdown_pool() -> None:
    """Stop the verification workers (call from app shutdown; they restart on demand)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


@functools.lru_cache(maxsize=4096)
def _public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def _verify_chunk(jobs: Sequence[tuple[bytes, bytes, bytes]]) -> list[bool]:
    """Worker side: plain bytes in, booleans out, so nothing but bytes crosses processes."""
    results = []
    for raw, data, signature in jobs:
        try:
            _public_key_from_raw(raw).verify(signature, data)
        except _CryptoInvalidSignature:
            results.append(False)
        else:
            results.append(True)
    return results


def _verify_one(obj: JSONObject, public_key: Ed25519PublicKey) -> SignatureError | None:
    try:
        verify_object(obj, public_key)
    except SignatureError as exc:
        return exc
    return None


def _chunks(n: int, workers: int) -> Iterator[range]:
    size = max(64, math.ceil(n / (workers * 4)))
    for start in range(0, n, size):
        yield range(start, min(start + size, n))


def verify_many(
    items: Sequence[tuple[JSONObject, Ed25519PublicKey]],
) -> list[SignatureError | None]:
    """Verify a batch; result ``i`` is ``None`` (valid) or the error for ``items[i]``.

    Batches above :data:`PARALLEL_THRESHOLD` fan out to a process pool. The parent computes
    the JCS input (which needs the Python objects) chunk by chunk while workers check earlier
    chunks. This call blocks; from async code run it in a thread. Workers start with
    forkserver or spawn, which re-import ``__main__``: scripts calling this need an
    ``if __name__ == "__main__":`` guard.
    """
    workers = _usable_cpus()
    if len(items) <= PARALLEL_THRESHOLD or workers < 2:
        return [_verify_one(obj, key) for obj, key in items]

    results: list[SignatureError | None] = [None] * len(items)
    pending: list[tuple[list[int], list[tuple[bytes, bytes, bytes]], Future[list[bool]] | None]]
    pending = []
    shared: ProcessPoolExecutor | None = None
    try:
        shared = _get_pool()
    except (OSError, NotImplementedError):  # pragma: no cover - e.g. no /dev/shm
        shared = None
    pool = shared
    for chunk in _chunks(len(items), workers):
        indexes: list[int] = []
        jobs: list[tuple[bytes, bytes, bytes]] = []
        for i in chunk:
            obj, key = items[i]
            try:
                jobs.append(verification_job(obj, key))
            except SignatureError as exc:
                results[i] = exc
            else:
                indexes.append(i)
        future: Future[list[bool]] | None = None
        if pool is not None and jobs:
            try:
                future = pool.submit(_verify_chunk, jobs)
            except (BrokenProcessPool, RuntimeError):  # broken, or shut down meanwhile
                pool = None
        pending.append((indexes, jobs, future))

    for indexes, jobs, future in pending:
        outcome: list[bool] | None = None
        if future is not None:
            try:
                outcome = future.result()
            except BrokenProcessPool:
                if shared is not None:
                    _discard_pool(shared)  # a worker died; start afresh next time
            except CancelledError:  # shutdown_pool() ran meanwhile
                pass
        if outcome is None:
            outcome = _verify_chunk(jobs)  # fall back to this process
        for i, job, ok in zip(indexes, jobs, outcome, strict=True):
            if not ok:
                results[i] = invalid_signature(items[i][0], kid_for_raw(job[0]))
    return results
