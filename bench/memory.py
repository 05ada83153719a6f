"""Section 4: the hub process's peak memory per MB posted.

A POST's body is held while it is read and parsed, and every object of it becomes Python
dicts and then stored strings, so what one large envelope costs the server in memory is a
property of the hub, not of the machine. Measured on the API process of ``cityshield serve``
(``/proc/PID/status``; with one API process, the default, it is the serve process itself):
the high-water mark ``VmHWM`` is reset before each
POST (``echo 5 > /proc/PID/clear_refs``), then compared with ``VmRSS`` just before the
POST (**peak per MB**) and ``VmRSS`` a second after the answer came back (**kept per
MB**: memory the process did not give back). The signature-verification workers and the
background worker are separate processes and are not counted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

from bench.hubs import objects_url
from bench.measure import client
from bench.served import served_hub
from bench.stix import fresh_ioc, report
from tests.utils.server import TAXII, TestMember

MIB = 1024 * 1024
SETTLE_S = 1.0


def vm_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in bytes."""
    figures: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) * 1024
    return figures


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def envelope_of(member: TestMember, size_bytes: int) -> bytes:
    """A serialised envelope of signed realistic reports, just under ``size_bytes``."""
    sample = len(orjson.dumps(member.sign(report(member, fresh_ioc()))[0])) + 1
    count = max(1, (size_bytes - 20) // sample)
    objects = member.sign(*(report(member, fresh_ioc()) for _ in range(count)))
    body = orjson.dumps({"objects": objects})
    while len(body) > size_bytes and len(objects) > 1:
        objects = objects[: int(len(objects) * size_bytes / len(body)) - 1]
        body = orjson.dumps({"objects": objects})
    return body


def posted_memory(
    backend: str, url: str, workdir: Path, *, sizes_mib: tuple[int, ...]
) -> dict[str, Any]:
    """POST one envelope of each size twice (the second shows whether the first one's
    memory is reused) and record the server's peak and kept memory per MB posted."""
    posts: list[dict[str, Any]] = []
    with served_hub(backend, url, workdir=workdir) as served:
        hub, pid = served.hub, served.pid
        member = hub.member()
        collection = hub.collection()
        target = objects_url(hub, collection)
        with client((member.name, member.token)) as http:
            headers = {"Content-Type": TAXII}
            http.post(target, content=envelope_of(member, 64 * 1024), headers=headers)
            resettable = True
            for size in sizes_mib:
                body = envelope_of(member, size * MIB)
                for attempt in (1, 2):
                    before = vm_status(pid)
                    resettable = reset_peak(pid) and resettable
                    response = http.post(target, content=body, headers=headers)
                    peak = vm_status(pid)["VmHWM"]
                    time.sleep(SETTLE_S)  # the hub frees and trims after it answered
                    after = vm_status(pid)
                    posted_mb = len(body) / MIB
                    posts.append(
                        {
                            "posted_mb": round(posted_mb, 2),
                            "attempt": attempt,
                            "http_status": response.status_code,
                            "rss_before_mb": round(before["VmRSS"] / MIB, 1),
                            "peak_mb": round(peak / MIB, 1),
                            "rss_after_mb": round(after["VmRSS"] / MIB, 1),
                            "peak_per_mb": round((peak - before["VmRSS"]) / len(body), 2),
                            "kept_per_mb": round((after["VmRSS"] - before["VmRSS"]) / len(body), 2),
                        }
                    )
    # The figure held to the target comes from the largest envelope: at 1 MB the one-off
    # growth of the first large request (caches, pools) weighs more than the body itself.
    largest = [p for p in posts if p["posted_mb"] == posts[-1]["posted_mb"]] if posts else []
    worst = max((p["peak_per_mb"] for p in largest if p["http_status"] == 202), default=None)
    return {"posts": posts, "peak_per_mb": worst, "peak_reset": resettable}


def memory_table(result: dict[str, Any]) -> str:
    """Section 4 as printed: one row per POST."""
    from bench.report import table  # late: bench.report imports this module

    rows = [
        [
            f"{post['posted_mb']:.2f} MB posted, {'first' if post['attempt'] == 1 else 'again'}",
            f"{post['http_status']}",
            f"{post['rss_before_mb']:.0f}",
            f"{post['peak_mb']:.0f}",
            f"{post['rss_after_mb']:.0f}",
            f"{post['peak_per_mb']:.2f}",
            f"{post['kept_per_mb']:.2f}",
        ]
        for post in result["posts"]
    ]
    note = "" if result.get("peak_reset", True) else " (VmHWM could not be reset: peaks overstated)"
    headers = ["POST", "status", "RSS MB", "peak MB", "after MB", "peak/MB", "kept/MB"]
    title = (
        "4. peak memory per MB posted: the API process of cityshield serve, signed realistic "
        f"reports{note}"
    )
    return table(title, headers, rows)
