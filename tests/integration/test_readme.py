"""The README's usage blocks run as written: every ```sh and ```python block, in order, in
one bash session, as a newcomer would paste them.

A block is skipped only when an HTML comment starting with ``<!-- not-run`` is the line just
before its fence (``make serve`` and ``make test``: one stays in the foreground, the other is
this suite). Python blocks run with ``python -`` in the same session, so they see what the
shell blocks exported (TOKEN, IDENTITY_ID, CITYSHIELD_HOME).

What the session gets is what a newcomer has: a fresh temp directory as the working
directory holding only ``.venv`` (this interpreter's environment) and ``examples/`` (the
repository's), the venv's bin first on PATH, no CITYSHIELD_* settings, and TMPDIR inside the
test's temp dir so ``mktemp -d`` stays there. The one change to the text: port 8001 becomes a
free port, so parallel runs of the suite do not collide. The whole process group is killed
afterwards, whatever the blocks did, so no hub outlives the test.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.utils.postgres import free_port

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
README_PORT = "8001"
_FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass
class Block:
    language: str
    code: str
    line: int
    runnable: bool


def readme_blocks(text: str) -> list[Block]:
    """Fenced blocks in order; a ``<!-- not-run`` comment ending on the line before the
    fence marks one as not runnable."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match or not match.group(1):
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        marker = _comment_before(lines, start)
        runnable = marker is None or not marker.startswith("<!-- not-run")
        blocks.append(Block(match.group(1), "\n".join(body) + "\n", start + 1, runnable))
        i += 1
    return blocks


def _comment_before(lines: list[str], fence: int) -> str | None:
    """The HTML comment that ends on the line just before ``fence``, if any."""
    if fence == 0 or not lines[fence - 1].rstrip().endswith("-->"):
        return None
    j = fence - 1
    while j >= 0 and "<!--" not in lines[j]:
        j -= 1
    return "\n".join(lines[j:fence]).strip() if j >= 0 else None


def session_script(blocks: list[Block], port: int) -> str:
    parts = ["set -euo pipefail"]
    for block in blocks:
        code = block.code.replace(README_PORT, str(port))
        if block.language == "sh":
            parts.append(f"# README.md line {block.line}\n{code}")
        elif block.language == "python":
            parts.append(f"# README.md line {block.line}\npython - <<'README_PY'\n{code}README_PY")
    return "\n".join(parts) + "\n"


def _newcomer_checkout(root: Path) -> Path:
    """A working directory with only what the README assumes of the repository root."""
    cwd = root / "checkout"
    cwd.mkdir()
    (cwd / "examples").symlink_to(REPO / "examples")
    prefix = Path(sys.prefix)
    if (prefix / "bin" / "activate").is_file():
        (cwd / ".venv").symlink_to(prefix)
    else:  # not a venv (e.g. a system install): an activate that puts its bin on PATH
        (cwd / ".venv" / "bin").mkdir(parents=True)
        bin_dir = Path(sys.executable).parent
        (cwd / ".venv" / "bin" / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n')
    return cwd


def _port_closes(port: int, timeout: float) -> bool:
    """Whether nothing listens on ``port`` within ``timeout`` seconds (a stopping uvicorn
    finishes its shutdown after the signal; exited processes may linger as zombies, their
    sockets do not)."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def test_readme_marks_only_make_as_not_runnable() -> None:
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    skipped = [b for b in blocks if not b.runnable]
    assert [b.code.split()[:2] for b in skipped] == [["make", "serve"]]
    runnable = [b.language for b in blocks if b.runnable and b.language in ("sh", "python")]
    assert runnable.count("sh") >= 2 and "python" in runnable
    assert all(README_PORT in b.code for b in blocks if b.runnable and "serve" in b.code)


def test_readme_blocks_run_as_written(tmp_path: Path) -> None:
    blocks = [
        b
        for b in readme_blocks(README.read_text(encoding="utf-8"))
        if b.runnable and b.language in ("sh", "python")
    ]
    port = free_port()
    (tmp_path / "tmp").mkdir()
    cwd = _newcomer_checkout(tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CITYSHIELD_") and k not in ("TOKEN", "IDENTITY_ID", "VIRTUAL_ENV")
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TMPDIR"] = str(tmp_path / "tmp")
    process = subprocess.Popen(
        ["bash", "-c", session_script(blocks, port)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: killed below with everything in it
    )
    try:
        stdout, stderr = process.communicate(timeout=240)
        stopped = _port_closes(port, timeout=15)  # by the README's own `kill`
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == 0, f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert stopped, "the README's `kill` left its hub running"
    examples = json.loads((REPO / "examples" / "iocs.json").read_text())["objects"]
    ids = [o["id"] for o in examples]
    lines = stdout.splitlines()
    for object_id in ids:  # fetched with curl, then again with taxii2-client
        assert lines.count(object_id) == 2, stdout
    assert '"success_count": 3' in stdout and '"failure_count": 0' in stdout
    assert "1 accepted, failures: []" in stdout
    new_ids = {line for line in lines if line.startswith("indicator--")} - set(ids)
    assert len(new_ids) == 1  # the object the Python block posted, listed back
    assert sorted(p.name for p in cwd.iterdir()) == [
        ".venv",
        "examples",
    ]  # nothing left in the checkout
