"""``kill -9`` of the worker in the middle of a batch: the receiver has stored the batch but
its answer never reached the hub. After a restart nothing is lost, the receiver holds no
object twice, and the receipts say delivered (the resent batch's "already there" answers
are recognised), while the member's password appears in no log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import update

from cityshield.db import session_scope
from cityshield.worker.models import JobRow
from tests.utils.delivery import readable, receipts_of, register, wait_for
from tests.utils.gate import Gate
from tests.utils.medallion import Medallion
from tests.utils.server import Hub, submit
from tests.utils.stix import fresh_ipv4, indicator

BATCH = 5


def start_worker(hub: Hub, log: Path) -> subprocess.Popen[Any]:
    """``cityshield worker`` in its own process against the hub's database."""
    env = {
        **os.environ,
        "CITYSHIELD_HOME": str(hub.settings.home),
        "CITYSHIELD_DELIVERY_BATCH_SIZE": str(BATCH),
        "CITYSHIELD_DELIVERY_BACKOFF_SECONDS": "0.05",
        "CITYSHIELD_DELIVERY_BACKOFF_MAX_SECONDS": "0.2",
        "CITYSHIELD_DELIVERY_TIMEOUT_SECONDS": "10",
    }
    env.pop("CITYSHIELD_DATABASE_URL", None)
    if hub.settings.database_url:
        env["CITYSHIELD_DATABASE_URL"] = hub.settings.database_url
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cityshield.cli.main", "worker"],
            env=env,
            stdout=out,
            stderr=out,
        )


def expire_leases_of(hub: Hub, pid: int) -> None:
    """What waiting out the dead worker's leases (60 s) would do (test_worker.py proves
    that they expire); the holder name carries the pid."""
    with session_scope(hub.engine) as session:
        session.execute(
            update(JobRow)
            .where(JobRow.holder.like(f"%:{pid}:%"))  # type: ignore[union-attr]
            .values(expires_us=0)
        )


def test_kill_9_mid_batch_loses_nothing_and_duplicates_nothing(
    policy_hub: Hub, tmp_path: Path
) -> None:
    hub = policy_hub
    reader, author = hub.member(), hub.member()
    server = Medallion(tmp_path / "medallion").start()
    log = tmp_path / "worker.log"
    try:
        with Gate(server.base_url) as gate:
            register(
                hub,
                reader,
                api_root=gate.api_root,
                collection=server.collections[0],
                view="submissions",
            )
            submit(hub, author, *(indicator(value=fresh_ipv4()) for _ in range(3 * BATCH - 2)))
            expected = readable(hub, reader, "submissions")
            gate.hold_posts.set()
            first = start_worker(hub, log)
            try:
                wait_for(gate.forwarded.is_set, "the first batch reaching the receiver")
                stored = set(server.held())
                assert 0 < len(stored) <= BATCH, "the receiver has the first batch"
                assert receipts_of(hub, reader) == [], "nothing was recorded before the kill"
            finally:
                os.kill(first.pid, signal.SIGKILL)
                first.wait(timeout=60)
            gate.hold_posts.clear()
            gate.release.set()
            expire_leases_of(hub, first.pid)
            second = start_worker(hub, log)
            try:
                wait_for(lambda: len(receipts_of(hub, reader)) == len(expected), "every receipt")
            finally:
                second.terminate()
                second.wait(timeout=60)
        held = server.held()
        assert set(held) == expected, "an object was lost"
        assert max(held.values()) == 1, "the receiver holds an object twice"
        assert Counter(r.status for r in receipts_of(hub, reader)) == {"delivered": len(expected)}
        resent = {key for key, count in gate.posted.items() if count > 1}
        assert resent <= stored, "only the batch whose answer was lost went again"
        assert Medallion.password not in log.read_text(), "the password is in the worker log"
    finally:
        server.stop()
