"""A member's own TAXII 2.1 server for tests: the real medallion (memory backend) in a child
process on 127.0.0.1, which can be stopped and started again on the same port.

medallion's memory backend keeps its state in memory only; run as
``python -m tests.utils.medallion CONFIG PORT``, this module starts medallion as its own
``medallion`` script does and, on SIGTERM, first writes the state back to its data file, so
a restarted medallion holds what it held (a member's server that is restarted does not
forget what it received). ``kill()`` loses nothing either: it is a graceful stop.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.utils.postgres import free_port

TAXII = "application/taxii+json;version=2.1"
ROOT = Path(__file__).resolve().parents[2]


class Medallion:
    """medallion with one API root (``api1``) and ``collections`` writable collections."""

    user, password = "city-taxii", "city-secret-pw-4711"

    def __init__(
        self,
        workdir: Path,
        collections: int = 1,
        port: int | None = None,
        *,
        inclusive_added_after: bool = False,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.inclusive_added_after = inclusive_added_after
        """Answer ``added_after=T`` with objects added at T too, as some servers do."""
        self.collections = [f"9a6b3c1e-0000-4000-8000-{i:012d}" for i in range(collections)]
        self.proc: subprocess.Popen[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self._write_config()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/api1/"

    def _write_config(self) -> None:
        data = {
            "/discovery": {
                "title": "city",
                "description": "a member's own TAXII server",
                "default": f"{self.api_root}",
                "api_roots": [self.api_root],
            },
            "api1": {
                "information": {
                    "title": "city",
                    "description": "",
                    "versions": [TAXII],
                    "max_content_length": 10 * 1024 * 1024,
                },
                "status": [],
                "collections": [
                    {
                        "id": cid,
                        "title": f"collection {i}",
                        "description": "",
                        "can_read": True,
                        "can_write": True,
                        "media_types": ["application/stix+json;version=2.1"],
                        "objects": [],
                        "manifest": [],
                    }
                    for i, cid in enumerate(self.collections)
                ],
            },
        }
        (self.workdir / "data.json").write_text(json.dumps(data))
        config = {
            "backend": {
                "module": "medallion.backends.memory_backend",
                "module_class": "MemoryBackend",
                "filename": str(self.workdir / "data.json"),
                "session_timeout": 3600,
            },
            "users": {self.user: self.password},
            "taxii": {"max_page_size": 10000},
            "x_inclusive_added_after": self.inclusive_added_after,
        }
        (self.workdir / "config.json").write_text(json.dumps(config))

    def start(self) -> Medallion:
        log = (self.workdir / "medallion.log").open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.utils.medallion",
                str(self.workdir / "config.json"),
                str(self.port),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                answer = httpx.get(
                    f"{self.base_url}/taxii2/",
                    auth=(self.user, self.password),
                    headers={"Accept": TAXII},
                )
                if answer.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"medallion did not start; see {self.workdir / 'medallion.log'}")

    def stop(self) -> None:
        """Stop it (its state is saved first, and kept for the next start)."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None

    def __enter__(self) -> Medallion:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def seed(self, objects: list[dict[str, Any]], date_added: str, collection: int = 0) -> None:
        """Store objects as if one POST had added them all at ``date_added`` (medallion's
        format, e.g. ``2026-12-01T00:00:00.000000Z``); only while stopped."""
        assert self.proc is None, "seed a stopped medallion"
        path = self.workdir / "data.json"
        data = json.loads(path.read_text())
        target = data["api1"]["collections"][collection]
        for obj in objects:
            target["objects"].append(obj)
            target["manifest"].append(
                {
                    "id": obj["id"],
                    "date_added": date_added,
                    "version": obj.get("modified", obj.get("created")),
                    "media_type": "application/stix+json;version=2.1",
                }
            )
        path.write_text(json.dumps(data))

    def objects(self, collection: int = 0) -> list[dict[str, Any]]:
        """Every version of every object the collection holds."""
        answer = httpx.get(
            f"{self.api_root}collections/{self.collections[collection]}/objects/",
            params={"match[version]": "all", "limit": "10000"},
            auth=(self.user, self.password),
            headers={"Accept": TAXII},
            timeout=60,
        )
        answer.raise_for_status()
        objects: list[dict[str, Any]] = answer.json().get("objects", [])
        return objects

    def held(self, collection: int = 0) -> Counter[tuple[str, str | None]]:
        """How many copies of each (id, modified) the collection holds."""
        return Counter((o["id"], o.get("modified")) for o in self.objects(collection))


def _serve(config_path: str, port: int) -> None:
    from medallion import application_instance, register_blueprints, set_config

    configuration = json.loads(Path(config_path).read_text())
    for part in ("users", "taxii", "backend"):
        set_config(application_instance, part, configuration)
    register_blueprints(application_instance)
    if configuration.get("x_inclusive_added_after"):
        _make_added_after_inclusive()
    backend: Any = application_instance.medallion_backend  # type: ignore[attr-defined]

    def save_and_exit(*_args: object) -> None:
        for _ in range(5):  # a request thread may be changing the data meanwhile
            try:
                backend.save_data_to_file(configuration["backend"]["filename"])
                break
            except RuntimeError:
                time.sleep(0.05)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, save_and_exit)
    application_instance.run(host="127.0.0.1", port=port, threaded=True)


def _make_added_after_inclusive() -> None:
    """medallion compares ``date_added > added_after``; some servers compare ``>=``."""
    from medallion.common import find_att, string_to_datetime
    from medallion.filters.basic_filter import BasicFilter

    def inclusive(data: Any, manifest_info: Any, added_after_date: str) -> list[Any]:
        after = string_to_datetime(added_after_date)
        return [
            obj
            for obj in data
            if any(
                item["id"] == obj["id"]
                and find_att(item) == find_att(obj)
                and string_to_datetime(item["date_added"]) >= after
                for item in manifest_info or []
            )
        ]

    BasicFilter.filter_by_added_after = staticmethod(inclusive)  # type: ignore[method-assign,assignment]


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]))
