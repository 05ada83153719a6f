"""Child-process servers on 127.0.0.1 beside the hub: the static page (ceilings) and
medallion 3.0.0 (a peer); shared start/stop helpers (OpenTAXII: ``bench/opentaxii.py``)."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.utils.postgres import free_port
from tests.utils.server import TAXII

ROOT = Path(__file__).resolve().parent.parent
MEDALLION_USER = ("bench", "bench-password")
MEDALLION_COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Ask politely (close stdin / SIGTERM), then kill this one child if it lingers."""
    if proc.stdin:
        proc.stdin.close()
    else:
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)


@contextmanager
def child_server(*args: str, module: str = "bench.serve") -> Iterator[dict[str, Any]]:
    """Run ``python -m MODULE ARGS`` (``bench.serve``, ``bench.receivers``); yields what it
    announced on its first line (``base_url``, ...) and its ``pid``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        line = proc.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"{module} {' '.join(args)} did not start")
        yield {**json.loads(line), "pid": proc.pid}
    finally:
        stop_process(proc)


def _medallion_config(workdir: Path, base_url: str) -> Path:
    """medallion's memory backend reads its whole state from one JSON data file."""
    data = {
        "/discovery": {
            "title": "bench",
            "description": "medallion under benchmark",
            "default": f"{base_url}/api1/",
            "api_roots": [f"{base_url}/api1/"],
        },
        "api1": {
            "information": {
                "title": "bench",
                "description": "",
                "versions": [TAXII],
                "max_content_length": 200 * 1024 * 1024,
            },
            "status": [],
            "collections": [
                {
                    "id": MEDALLION_COLLECTION,
                    "title": "bench",
                    "description": "",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (workdir / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(workdir / "data.json"),
            "session_timeout": 3600,  # its first page is slow; keep ``next`` alive meanwhile
        },
        "users": {MEDALLION_USER[0]: MEDALLION_USER[1]},
        "taxii": {"max_page_size": 1000},
    }
    path = workdir / "config.json"
    path.write_text(json.dumps(config))
    return path


@contextmanager
def medallion_server(workdir: Path) -> Iterator[str]:
    """medallion 3 (Flask on werkzeug, memory backend) as shipped; yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = _medallion_config(workdir, base_url)
    with (workdir / "medallion.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "medallion.scripts.run", "--port", str(port), str(config)],
            stdout=log,
            stderr=log,
        )
    try:
        wait_until_up(f"{base_url}/taxii2/", proc, MEDALLION_USER, "medallion")
        yield base_url
    finally:
        stop_process(proc)


def wait_until_up(url: str, proc: subprocess.Popen[Any], auth: tuple[str, str], name: str) -> None:
    """Until ``url`` answers 200 with ``auth`` (60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(url, auth=auth, headers={"Accept": TAXII}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start")
