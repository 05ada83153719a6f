"""``python -m bench.profile``: where the time of a signed ingest into ``submissions`` goes,
in the real ``cityshield serve`` process tree (API, worker, verification pool).

The same set-up as section 1 of ``bench.run`` (a served hub, known IOCs reported and
published, envelopes of 500 realistic reports by another member, 30% repeating known
IOCs). Then, once per mode, py-spy records the serve process and its subprocesses
(``py-spy record --pid SERVE --subprocesses --format raw --nolineno``) while the envelopes
are POSTed one after another and until the worker has published them; ``bench/stacks.py``
aggregates the stacks per process. Modes:

- ``active`` (py-spy's default): threads that are running or waiting on something other
  than idle sleep, which includes SQLite's busy handler and lock waits;
- ``gil``: only the thread holding the GIL (``--gil``), i.e. where Python CPU goes;
- ``idle``: every thread, idle ones too (``--idle``): wall time of every thread.

py-spy needs ptrace on the server's processes (root, or CAP_SYS_PTRACE). Writes
``bench/results/profile.json`` and ``profile.txt`` (the same text it prints).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.hubs import databases, objects_url, wait_published
from bench.measure import client, ingest
from bench.network import SUBMISSIONS
from bench.report import table
from bench.served import Served, children, command_line, served_hub
from bench.served_ingest import Envelopes, fill_known
from bench.stacks import by_role, parse_raw, summary, within

RESULTS = Path(__file__).resolve().parent / "results"
MODES = {"active": [], "gil": ["--gil"], "idle": ["--idle"]}
FOCUS = {
    "api: inside the ingest request": ("api (serve)", "add_objects (cityshield/flows/ingest.py)"),
    "worker: inside a publication": ("worker", "publish_pending (cityshield/dedup/service.py)"),
}
"""One piece of work per process, by a frame every one of its stacks holds (names of today's
src/: a renamed function leaves its section empty, not the run broken)."""


def py_spy() -> str:
    script = Path(sys.executable).with_name("py-spy")
    return str(script) if script.exists() else "py-spy"


def roles(served: Served) -> dict[int, str]:
    """pid -> role of every process of the served tree: the API (serve itself), the worker,
    and the verification pool's processes (forked by a forkserver child of serve)."""
    found = {served.pid: "api (serve)"}
    for pid in children(served.pid):
        line = command_line(pid)
        if " worker" in line:
            found[pid] = "worker"
        elif "resource_tracker" in line:
            found[pid] = "resource tracker"
        else:
            found[pid] = "forkserver"
        for grandchild in children(pid):
            found[grandchild] = "verification pool"
    return found


def record(served: Served, mode: str, out: Path, rate: int, work: Any) -> dict[str, Any]:
    """py-spy over ``work()``; returns what ``work`` returned and py-spy's own report."""
    command = [
        py_spy(),
        "record",
        "--pid",
        str(served.pid),
        "--subprocesses",
        "--format",
        "raw",
        "--nolineno",
        "--rate",
        str(rate),
        "--output",
        str(out),
        *MODES[mode],
    ]
    spy = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(2.0)  # attached and sampling before the first POST
    if spy.poll() is not None:
        raise RuntimeError(f"py-spy exited at once: {spy.stdout.read() if spy.stdout else ''}")
    try:
        result = work()
    finally:
        spy.send_signal(signal.SIGINT)
        said, _ = spy.communicate(timeout=120)
    return {"work": result, "py_spy": said.strip().splitlines()[-3:]}


def analyse(raw: Path, role_of: dict[int, str]) -> dict[str, Any]:
    """Per process, and for each piece of work of :data:`FOCUS`, from one raw file."""
    stacks = parse_raw(raw.read_text().splitlines())

    def role(pid: int) -> str:
        return role_of.get(pid, f"pid {pid}")

    def inside(wanted: str, frame: str) -> Any:
        return lambda stack: role(stack.pid) == wanted and frame in stack.frames

    return {
        "processes": summary(by_role(stacks, role)),
        "within": {name: within(stacks, inside(*focus)) for name, focus in FOCUS.items()},
    }


def profile(
    *, backend: str, envelopes: int, known: int, rate: int, modes: list[str], workdir: Path
) -> dict[str, Any]:
    rng = random.Random(4242)
    RESULTS.mkdir(exist_ok=True)
    results: dict[str, Any] = {"backend": backend, "envelopes": envelopes, "known_iocs": known}
    with (
        databases(backend, workdir) as (new_db, _),
        served_hub(backend, new_db(), workdir=workdir) as served,
    ):
        hub = served.hub
        reporter = hub.member(name="northport", groups=["north"])
        poster = hub.member(name="lakeside", groups=["south"])
        pool = fill_known(hub, reporter, poster, hub.collection(), known, rng)
        wait_published(hub, 600)
        made = Envelopes(poster, reporter.identity_id, pool, 0.30, rng)
        url = objects_url(hub, SUBMISSIONS)
        with client((poster.name, poster.token)) as http:
            warm, _ = made.make(1)
            ingest(http, url, warm)
            wait_published(hub, 600)
            role_of = roles(served)
            results["processes"] = {str(pid): role for pid, role in role_of.items()}
            for mode in modes:
                bodies, _ = made.make(envelopes)

                def work(bodies: list[bytes] = bodies) -> dict[str, Any]:
                    done = ingest(http, url, bodies)
                    waited = wait_published(hub, 600)
                    return {"ingest": done.as_dict(), "published_after_s": waited}

                out = RESULTS / f"profile-{mode}.txt"  # the raw stacks, kept
                recorded = record(served, mode, out, rate, work)
                results[mode] = {**recorded, **analyse(out, role_of)}
                print(f"  {mode}: {recorded['work']['ingest']['objects_per_s']:,} objects/s")
    return results


def render(results: dict[str, Any]) -> str:
    parts = [
        f"py-spy profile of cityshield serve ({results['backend']}): "
        f"{results['envelopes']} envelopes of 500 into 'submissions', "
        f"{results['known_iocs']:,} known IOCs, until the worker published them"
    ]
    for mode in MODES:
        if mode not in results:
            continue
        ingest = results[mode]["work"]["ingest"]
        parts.append(f"\n== mode {mode}: ingest {ingest['objects_per_s']:,} objects/s ==")
        for name, figures in results[mode]["within"].items():
            rows = [[r["function"], f"{r['share']:.1%}"] for r in figures["total_cityshield"]]
            if rows:
                heading = f"{name}, {mode}: total time of {figures['samples']:,} samples"
                parts.append(table(heading, ["function", "share"], rows))
        for role, figures in results[mode]["processes"].items():
            if role in ("forkserver", "resource tracker"):  # idle helpers: in the JSON only
                continue
            for kind, title in (
                ("own", "own time (innermost Python frame)"),
                ("total_cityshield", "cityshield functions, total (inclusive) time"),
                ("own_by_package", "own time by package"),
            ):
                rows = [[r["function"], f"{r['share']:.1%}"] for r in figures[kind]]
                if rows:
                    heading = f"{role}, {mode}: {title} of {figures['samples']:,} samples"
                    parts.append(table(heading, ["function", "share"], rows))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--envelopes", type=int, default=20, help="envelopes of 500 per mode")
    parser.add_argument("--known", type=int, default=30_000, help="known IOCs beforehand")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--modes", default=",".join(MODES), help="of active,gil,idle")
    args = parser.parse_args(argv)
    modes = args.modes.split(",")
    if set(modes) - set(MODES):
        raise SystemExit(f"modes are {', '.join(MODES)}")
    with tempfile.TemporaryDirectory(prefix="cityshield-profile-") as tmp:
        results = profile(
            backend=args.backend,
            envelopes=args.envelopes,
            known=args.known,
            rate=args.rate,
            modes=modes,
            workdir=Path(tmp),
        )
    text = render(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "profile.json").write_text(json.dumps(results, indent=2))
    (RESULTS / "profile.txt").write_text(text + "\n")
    print(text)
    print(f"\nwritten to {RESULTS / 'profile.json'} and profile.txt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
