"""``cityshield serve`` runs the API and one worker process beside it, and leaves no
worker behind when it stops, whichever way it is stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.utils.postgres import free_port


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the live processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(entry.name), cmdline))
    return found


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    for child, _cmd in _children(pid):
        found |= {child} | _descendants(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _serve(home: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    env = {**os.environ, "CITYSHIELD_HOME": str(home)}
    env.pop("CITYSHIELD_DATABASE_URL", None)
    port = free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "cityshield.cli.main", "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while True:
        assert serve.poll() is None, "serve exited"
        try:
            httpx.get(f"http://127.0.0.1:{port}/taxii2/", timeout=2)
            return serve, port
        except httpx.TransportError:
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.2)


def _jobs(home: Path) -> list[dict[str, object]]:
    env = {**os.environ, "CITYSHIELD_HOME": str(home)}
    env.pop("CITYSHIELD_DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, "-m", "cityshield.cli.main", "jobs"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    health: list[dict[str, object]] = json.loads(out)
    return health


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_starts_a_worker_beside_the_api_and_stops_both(
    tmp_path: Path, stop: signal.Signals
) -> None:
    home = tmp_path / "hub"
    serve, _port = _serve(home)
    try:
        workers = [pid for pid, cmd in _children(serve.pid) if " worker" in cmd]
        assert len(workers) == 1, _children(serve.pid)
        deadline = time.monotonic() + 60
        while not any(job["last_success"] for job in _jobs(home)):  # the worker runs jobs
            assert time.monotonic() < deadline, "the worker ran no job"
            time.sleep(0.5)
        serve.send_signal(stop)
        assert serve.wait(timeout=60) is not None
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    # At once, not eventually: serve stops and reaps its worker before it exits (the
    # worker's own watch on its parent is only for a serve that was killed).
    assert not _alive(workers[0]), "the worker outlived serve"


def test_serve_no_worker_runs_the_api_alone(tmp_path: Path) -> None:
    home = tmp_path / "hub"
    serve, _port = _serve(home, "--no-worker")
    try:
        time.sleep(1)
        assert not [pid for pid, cmd in _children(serve.pid) if " worker" in cmd]
        assert not any(job["last_started"] for job in _jobs(home))
    finally:
        serve.terminate()
        serve.wait(timeout=60)


def test_a_worker_stops_when_serve_is_killed(tmp_path: Path) -> None:
    """SIGKILL runs no clean-up in serve: the worker notices its parent is gone."""
    home = tmp_path / "hub"
    serve, _port = _serve(home)
    (worker,) = [pid for pid, cmd in _children(serve.pid) if " worker" in cmd]
    # The signing pool's processes (a forkserver and its children) are not the worker's
    # business: they are only cleaned up here, so the test leaves nothing behind.
    others = _descendants(serve.pid) - {worker}
    serve.kill()
    serve.wait()
    try:
        deadline = time.monotonic() + 20
        while _alive(worker):
            assert time.monotonic() < deadline, "the worker outlived a killed serve"
            time.sleep(0.1)
    finally:
        for pid in others | ({worker} if _alive(worker) else set()):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
