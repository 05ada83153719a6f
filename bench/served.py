"""The hub as users run it: ``cityshield init`` then ``cityshield serve`` in a child process.

``serve`` runs with its defaults (one API process, one worker process beside it running the
background jobs, the verification pool under the API); only the data directory, database
URL and port are chosen, through the ``CITYSHIELD_*`` environment variables and
``--port``, as an operator would. The benchmark keeps in-process access to the same
database (members, keys, bulk fills through the hub's own ingest path), but every figure is
measured against the served process tree.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from cityshield.config import Settings
from cityshield.db import make_engine
from tests.utils.postgres import free_port
from tests.utils.server import TAXII, Hub

STOP_SECONDS = 60


def cityshield_command() -> list[str]:
    """The ``cityshield`` console script beside this interpreter (what ``make serve`` runs),
    or the same entry point through ``-m`` where the script is not installed."""
    script = Path(sys.executable).with_name("cityshield")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cityshield.cli.main"]


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux ``/proc``)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


@dataclass
class Served:
    """A running ``cityshield serve``: the hub (for in-process set-up) and its processes."""

    hub: Hub
    pid: int
    """The serve process, which is also the API process (one API process by default)."""
    log: Path

    @property
    def worker_pids(self) -> list[int]:
        return [p for p in children(self.pid) if " worker" in command_line(p)]


def _environment(home: Path, url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSHIELD_")}
    env.update(CITYSHIELD_HOME=str(home), CITYSHIELD_DATABASE_URL=url, **(extra or {}))
    return env


def _wait_until_up(base_url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until discovery answers (401 without credentials counts: the app is serving)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"cityshield serve exited ({proc.returncode}); see {log}")
        try:
            httpx.get(f"{base_url}/taxii2/", headers={"Accept": TAXII}, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"cityshield serve did not start within 120 s; see {log}")


def _wait_for_worker(served: Served) -> None:
    deadline = time.monotonic() + 60
    while not served.worker_pids:
        if time.monotonic() > deadline:
            raise RuntimeError(f"cityshield serve started no worker; see {served.log}")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes], pids: list[int]) -> None:
    """SIGTERM to serve (it stops its worker and pool); kill what is left after a minute."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
    for pid in pids:  # the worker and pool stop with serve; these are strays, by their pid
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def initialised_hub(backend: str, url: str, *, workdir: Path | None = None) -> Iterator[Hub]:
    """``cityshield init`` on database ``url`` with a fresh data directory (hub identity and
    key); yields in-process access to it, not yet served (``base_url`` is empty)."""
    home = Path(tempfile.mkdtemp(prefix=f"cityshield-served-{backend}-", dir=workdir))
    subprocess.run(
        [*cityshield_command(), "init"],
        env=_environment(home, url),
        check=True,
        capture_output=True,
    )
    engine = make_engine(url)
    try:
        yield Hub(backend, Settings(home=home, database_url=url), engine, "")
    finally:
        engine.dispose()
        shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class Command:
    """A ``cityshield`` command that ran to its end, as an operator runs it."""

    returncode: int
    seconds: float
    """Wall time from start to exit (interpreter start-up included)."""
    peak_rss_bytes: int
    """The process's RSS high-water mark (``ru_maxrss`` of its own ``wait4``)."""
    stdout: bytes


def run_command(
    hub: Hub,
    args: list[str],
    *,
    timeout_s: float,
    environment: Mapping[str, str] | None = None,
) -> Command:
    """``cityshield ARGS`` on the hub's data directory and database, in a child process
    (stderr appended to ``command.log`` there), killed after ``timeout_s``. Its own
    resource usage comes from ``os.wait4`` on it, not every child's at once, as
    ``getrusage(RUSAGE_CHILDREN)`` would give."""
    env = _environment(hub.settings.home, hub.settings.effective_database_url, environment)
    log = hub.settings.home / "command.log"
    with tempfile.TemporaryFile() as out, log.open("ab") as errors:
        began = time.perf_counter()
        proc = subprocess.Popen([*cityshield_command(), *args], env=env, stdout=out, stderr=errors)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - began > timeout_s:
                proc.kill()
            time.sleep(0.05)
        seconds = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        stdout = out.read()
    return Command(proc.returncode, seconds, usage.ru_maxrss * 1024, stdout)


@contextmanager
def serving(hub: Hub, *, environment: Mapping[str, str] | None = None) -> Iterator[Served]:
    """``cityshield serve --port P`` on the hub's data directory and database; yields once
    the API answers and the worker runs (``hub.base_url`` is set meanwhile). Serve stops
    when the block ends: a hub may be served again later (after a fill, say).
    ``environment`` adds settings (``CITYSHIELD_FEEDS_DIR``, say), as an operator's
    environment would."""
    home, url = hub.settings.home, hub.settings.effective_database_url
    port = free_port()
    log = home / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*cityshield_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=_environment(home, url, environment),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    seen: list[int] = []
    try:
        hub.base_url = f"http://127.0.0.1:{port}"
        _wait_until_up(hub.base_url, proc, log)
        served = Served(hub, proc.pid, log)
        _wait_for_worker(served)
        seen = children(proc.pid)
        yield served
    finally:
        hub.base_url = ""
        _stop(proc, [p for p in seen if Path(f"/proc/{p}").exists()])


@contextmanager
def served_hub(backend: str, url: str, *, workdir: Path | None = None) -> Iterator[Served]:
    """A fresh hub, initialised and served with ``serve``'s defaults."""
    with initialised_hub(backend, url, workdir=workdir) as hub, serving(hub) as served:
        yield served
