"""How busy the machine was during each section, and how much of that was not us.

The 1-minute load average counts the benchmark's own client and servers too, so on its own
it cannot say whether other work disturbed a run. :class:`Monitor` compares the CPU time
of the whole machine (user + system in ``/proc/stat``) with that of the benchmark: a thread
reads ``/proc/PID/stat`` of this process, of a PostgreSQL server the run started (pg_ctl
detaches it from this process tree) and of every descendant of either, 4 times a second,
and keeps the last CPU time seen of each, so processes that exit during the section (servers
and their worker pools) still count. The difference is other processes' work, in cores
(1.0 = one core busy throughout). Up to 0.25 s of a process's last work before it exits
can be missed (servers do little then), and so is a descendant orphaned before it is first
seen (none here: worker pools stay under their server until it stops). Linux only;
elsewhere only the load average is recorded.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy() -> float:
    """User and system time of every process on the machine, all cores, in seconds.
    Interrupt time is left out: it is mostly the kernel moving the benchmark's own loopback
    traffic, charged to no process."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system = (int(f) for f in fields[:3])
    return (user + nice + system) / _TICK


def _tree(roots: list[int]) -> dict[int, float]:
    """pid -> own CPU seconds (user + system, not its children's) of ``roots`` and every
    live descendant."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(entry.path, "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        fields = text.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {}, list(roots)
    while todo:
        pid = todo.pop()
        if pid in cpu:
            found[pid] = cpu[pid]
        todo.extend(children.get(pid, []))
    return found


def tree_cpu(root: int) -> float:
    """CPU seconds so far of ``root`` and its live descendants (a served hub's API, pool
    and worker), to compare two moments of one process tree."""
    return sum(_tree([root]).values())


class Monitor:
    """``with Monitor() as monitor: ...``; then ``monitor.figures``. ``roots``: pids outside
    this process tree whose trees work for the benchmark too (a detached database server)."""

    def __init__(self, roots: list[int] | None = None, interval_s: float = 0.25) -> None:
        self.roots = [os.getpid(), *(roots or [])]
        self.interval_s = interval_s
        self.figures: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._base: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._busy: float | None = None

    def __enter__(self) -> Monitor:
        self._wall, self._load = time.perf_counter(), os.getloadavg()[0]
        try:
            self._busy = _machine_busy()
            self._base = _tree(self.roots)
            self._last = dict(self._base)
            self._thread.start()
        except (OSError, ValueError, IndexError):  # no /proc: load average only
            self._busy = None
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            self._last.update(_tree(self.roots))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        wall = time.perf_counter() - self._wall
        self.figures = {
            "seconds": round(wall, 1),
            "load_average_start": round(self._load, 2),
            "load_average_end": round(os.getloadavg()[0], 2),
        }
        if self._busy is None or wall <= 0:
            return
        self._stop.set()
        self._thread.join()
        self._sample()
        busy = _machine_busy() - self._busy
        ours = sum(cpu - self._base.get(pid, 0.0) for pid, cpu in self._last.items())
        self.figures["bench_cores"] = round(ours / wall, 2)
        self.figures["other_cores"] = round(max(0.0, busy - ours) / wall, 2)
