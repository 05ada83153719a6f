"""Where the time goes, from py-spy's collapsed stacks (``py-spy record --format raw``).

Each line of a raw file is one distinct stack and how many samples had it::

    process 10:"python serve";process 12:"python worker";run (cityshield/worker/run.py) 42

Frames are ``;``-separated, outermost first; with ``--subprocesses`` every stack starts
with a ``process PID:"cmdline"`` frame per level of the process tree, so the last one names
the sampled process. A function's **own** share is the samples where it is the innermost
Python frame (time in C code it called, e.g. SQLite's, counts as its own); its **total**
share is the samples whose stack contains it at least once. Shares are of the samples of
the same process (role), so they add up per process, not across processes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_PROCESS = re.compile(r'^process (\d+):"(.*)"$')
_OPEN_PROCESS = re.compile(r'^process \d+:"')
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


@dataclass(frozen=True)
class Stack:
    pid: int
    frames: tuple[str, ...]
    """``function (file)`` labels, outermost first, line numbers dropped."""
    samples: int


def parse_raw(lines: Iterable[str]) -> list[Stack]:
    """The stacks of a raw py-spy file (blank and malformed lines skipped)."""
    stacks = []
    for line in lines:
        text, _, count = line.rstrip("\n").rpartition(" ")
        if not text or not count.isdigit():
            continue
        pid, frames = 0, []
        for frame in _frames(text):
            process = _PROCESS.match(frame)
            if process:
                pid = int(process.group(1))
                continue
            frames.append(_label(frame))
        stacks.append(Stack(pid, tuple(frames), int(count)))
    return stacks


def _frames(text: str) -> list[str]:
    """Split on ``;``, except inside a process frame's quoted command line (a forkserver's
    is ``python -c "from multiprocessing.forkserver import main; main(...)"``)."""
    frames: list[str] = []
    pieces = iter(text.split(";"))
    for piece in pieces:
        if _OPEN_PROCESS.match(piece):
            while not piece.endswith('"'):
                following = next(pieces, None)
                if following is None:
                    break
                piece = f"{piece};{following}"
        frames.append(piece)
    return frames


def _label(frame: str) -> str:
    """``name (file:line)`` -> ``name (file)``, so lines of one function add up."""
    found = _FRAME.match(frame)
    return f"{found.group('name')} ({found.group('file')})" if found else frame


def package(label: str) -> str:
    """The top-level package (or stdlib module) of a frame: ``sqlalchemy``, ``cityshield``,
    ``asyncio``, ``threading``..."""
    found = _FRAME.match(label)
    if not found:
        return "?"
    path = found.group("file")
    head = path.split("/", 1)[0]
    return head.removesuffix(".py") if "/" not in path else head


@dataclass
class Profile:
    """Samples of one process (role), with own and total counts per function."""

    samples: int = 0
    own: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    own_by_package: Counter[str] = field(default_factory=Counter)

    def add(self, stack: Stack) -> None:
        self.samples += stack.samples
        if not stack.frames:
            return
        self.own[stack.frames[-1]] += stack.samples
        self.own_by_package[package(stack.frames[-1])] += stack.samples
        for frame in set(stack.frames):
            self.total[frame] += stack.samples

    def top(self, counts: Counter[str], n: int, keep: Callable[[str], bool] = bool) -> list:
        """The ``n`` largest counts; ties by name, since frames are counted from a set and
        its order (string hashing) changes from one run to the next."""
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [
            {"function": name, "samples": count, "share": round(count / self.samples, 4)}
            for name, count in ranked
            if keep(name)
        ][:n]


def by_role(stacks: list[Stack], role_of: Callable[[int], str]) -> dict[str, Profile]:
    profiles: dict[str, Profile] = {}
    for stack in stacks:
        profiles.setdefault(role_of(stack.pid), Profile()).add(stack)
    return profiles


def within(stacks: list[Stack], keep: Callable[[Stack], bool], n: int = 15) -> dict[str, Any]:
    """Total shares of cityshield's functions among the stacks ``keep`` selects (e.g. the
    API's samples inside the ingest handler): how one piece of work divides its time."""
    profile = Profile()
    for stack in stacks:
        if keep(stack):
            profile.add(stack)
    return {
        "samples": profile.samples,
        "total_cityshield": profile.top(
            profile.total, n, lambda name: package(name) == "cityshield"
        ),
        "own": profile.top(profile.own, n),
    }


def summary(profiles: dict[str, Profile], n: int = 15) -> dict[str, Any]:
    """Per role: samples, top functions by own share, top cityshield functions by total
    share, and own time by package."""
    return {
        role: {
            "samples": profile.samples,
            "own": profile.top(profile.own, n),
            "total_cityshield": profile.top(
                profile.total, n, lambda name: package(name) == "cityshield"
            ),
            "own_by_package": profile.top(profile.own_by_package, n),
        }
        for role, profile in sorted(profiles.items(), key=lambda item: -item[1].samples)
    }
