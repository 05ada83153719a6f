"""Network lag: how long after an envelope's 202 every report of it shows in the ``network``
collection, as a member reading it sees it.

A :class:`NetworkWatch` thread polls ``network`` as one member with ``added_after`` set to
the newest ``date_added`` it has seen (a member's views get strictly increasing
``date_added``, so this keyset walk neither skips nor repeats), as fast as answers come
(``poll_s`` apart when nothing is new: 0.1 s, a tenth of the lag target, so the polls
themselves cost the API little), and records when each report id first appears in
a network indicator's ``contributing_refs``. A report counts in the network view only if it
is not TLP:RED or AMBER+STRICT (``docs/dedup.md``), so those are not waited for. The lag of
an envelope is then the time from its POST's answer to the moment its last countable
report was seen: what a member polling the network collection would experience, to within
one poll.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import orjson

from bench.measure import PAGE
from bench.threads import InThread
from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.stix.vocabulary import TLP_LEVELS
from tests.utils.server import TAXII

NOT_COUNTED = ("red", "amber+strict")
"""TLP levels whose reports never enter a network aggregate."""


def counted_ids(objects: list[dict[str, Any]]) -> set[str]:
    """Ids of the reports the network view will count (unmarked ones count: the policy's
    default is TLP:AMBER)."""
    found = set()
    for obj in objects:
        levels = {TLP_LEVELS.get(ref) for ref in obj.get("object_marking_refs", [])}
        if not levels & set(NOT_COUNTED):
            found.add(obj["id"])
    return found


class NetworkWatch(InThread):
    """``with NetworkWatch(url, auth, added_after) as watch: ...``; ``watch.seen`` maps
    report id -> ``perf_counter`` when it was first seen."""

    def __init__(
        self, url: str, auth: tuple[str, str], added_after: str | None, poll_s: float = 0.1
    ) -> None:
        super().__init__("network watch", join_timeout_s=60)
        self.url = url
        self.auth = auth
        self.added_after = added_after
        self.poll_s = poll_s
        self.seen: dict[str, float] = {}
        self.polls = 0
        self.objects = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def _run(self) -> None:
        with httpx.Client(auth=self.auth, headers={"Accept": TAXII}, timeout=60) as http:
            while not self._stop.is_set():
                try:
                    more = self._poll(http)
                except (httpx.HTTPError, ValueError) as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    more = False
                if not more:
                    self._stop.wait(self.poll_s)

    def _poll(self, http: httpx.Client) -> bool:
        params = {"limit": str(PAGE)}
        if self.added_after:
            params["added_after"] = self.added_after
        response = http.get(self.url, params=params)
        response.raise_for_status()
        now = time.perf_counter()
        envelope = orjson.loads(response.content)
        objects = envelope.get("objects", [])
        self.polls += 1
        self.objects += len(objects)
        with self._lock:
            for obj in objects:
                extension = obj.get("extensions", {}).get(CORROBORATION_EXTENSION_ID, {})
                for ref in extension.get("contributing_refs", []):
                    self.seen.setdefault(ref, now)
        last = response.headers.get("X-TAXII-Date-Added-Last")
        if last:
            self.added_after = last
        return bool(envelope.get("more")) and bool(objects)

    def wait_for(self, ids: set[str], deadline_s: float) -> bool:
        """Until every id was seen, or ``deadline_s`` passed; whether all were seen."""
        end = time.perf_counter() + deadline_s
        while time.perf_counter() < end:
            with self._lock:
                if ids <= self.seen.keys():
                    return True
            time.sleep(0.01)
        return False

    def lag(self, ids: set[str], answered_at: float) -> float | None:
        """Seconds from ``answered_at`` until the last of ``ids`` was seen; None if one
        never was."""
        with self._lock:
            if not ids <= self.seen.keys():
                return None
            return max(0.0, max(self.seen[i] for i in ids) - answered_at)
