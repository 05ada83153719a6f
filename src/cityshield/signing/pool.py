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
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cityshield.signing.errors import SignatureError
from cityshield.signing.jwk import kid_for_raw
from cityshield.signing.scheme import invalid_signature, verification_job, verify_object

__all__ = ["PARALLEL_THRESHOLD", "Verification", "shutdown_pool", "start_pool", "verify_many"]

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


def _chunk_size(expected: int, workers: int) -> int:
    return max(64, math.ceil(expected / (workers * 4)))


Item = tuple[JSONObject, Ed25519PublicKey]


class Verification:
    """A batch verified as it is handed over (:meth:`add`), its results collected at the
    end (:meth:`results`).

    Batches expected above :data:`PARALLEL_THRESHOLD` fan out to the process pool: the
    parent computes each object's JCS input (which needs the Python objects) and sends
    the plain bytes in chunks while workers check earlier ones. A caller that adds objects
    while it still has other work to do (ingest adds each chunk of an envelope as soon as
    it is validated) overlaps that work with the checks. Smaller batches, or a machine
    with one core, are checked in this process. This blocks in :meth:`results`; from
    async code run it in a thread. Workers start with forkserver or spawn, which
    re-import ``__main__``: scripts calling this need an ``if __name__ == "__main__":``
    guard.
    """

    def __init__(self, expected: int) -> None:
        workers = _usable_cpus()
        self._items: list[Item] = []
        self._results: list[SignatureError | None] = []
        self._pending: list[
            tuple[list[int], list[tuple[bytes, bytes, bytes]], Future[list[bool]] | None]
        ] = []
        self._queued: tuple[list[int], list[tuple[bytes, bytes, bytes]]] = ([], [])
        self._size = _chunk_size(expected, workers)
        self._shared: ProcessPoolExecutor | None = None
        self._parallel = expected > PARALLEL_THRESHOLD and workers >= 2
        if self._parallel:
            try:
                self._shared = _get_pool()
            except (OSError, NotImplementedError):  # pragma: no cover - e.g. no /dev/shm
                self._shared = None
        self._pool = self._shared

    def add(
        self, obj: JSONObject, key: Ed25519PublicKey, signed: tuple[str, bytes] | None = None
    ) -> None:
        """Queue ``obj`` for checking against ``key`` (``signed``: its already read
        signature entry, ``scheme.read_signature``)."""
        index = len(self._items)
        self._items.append((obj, key))
        self._results.append(None)
        if not self._parallel:
            return
        try:
            job = verification_job(obj, key, signed=signed)
        except SignatureError as exc:
            self._results[index] = exc
            return
        indexes, jobs = self._queued
        indexes.append(index)
        jobs.append(job)
        if len(jobs) >= self._size:
            self._submit()

    def _submit(self) -> None:
        indexes, jobs = self._queued
        self._queued = ([], [])
        if not jobs:
            return
        future: Future[list[bool]] | None = None
        if self._pool is not None:
            try:
                future = self._pool.submit(_verify_chunk, jobs)
            except (BrokenProcessPool, RuntimeError):  # broken, or shut down meanwhile
                self._pool = None
        self._pending.append((indexes, jobs, future))

    def results(self) -> list[SignatureError | None]:
        """Result ``i`` is ``None`` (valid) or the error for the ``i``-th object added."""
        if not self._parallel:
            return [_verify_one(obj, key) for obj, key in self._items]
        self._submit()
        for indexes, jobs, future in self._pending:
            outcome: list[bool] | None = None
            if future is not None:
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    if self._shared is not None:
                        _discard_pool(self._shared)  # a worker died; start afresh next time
                except CancelledError:  # shutdown_pool() ran meanwhile
                    pass
            if outcome is None:
                outcome = _verify_chunk(jobs)  # fall back to this process
            for i, job, ok in zip(indexes, jobs, outcome, strict=True):
                if not ok:
                    self._results[i] = invalid_signature(self._items[i][0], kid_for_raw(job[0]))
        self._pending = []
        return self._results


def verify_many(items: Sequence[Item]) -> list[SignatureError | None]:
    """Verify a batch; result ``i`` is ``None`` (valid) or the error for ``items[i]``
    (:class:`Verification` in one go)."""
    verification = Verification(len(items))
    for obj, key in items:
        verification.add(obj, key)
    return verification.results()
