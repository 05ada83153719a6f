"""Retries of a target that failed: exponential backoff with jitter, then a dead letter.

Nothing here knows how a target is sent to (TAXII today, webhooks next): a sender reports
success or an error text, and the target row gets its next attempt time or, after
``max_attempts`` consecutive failures, the ``dead`` state with the last error. A dead
target keeps its cursor, so nothing it has not received is lost; ``outbox retry`` (or
``push-target resume``) makes it active again from where it stopped.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from cityshield.delivery.models import DeliveryTarget

ACTIVE, PAUSED, DEAD = "active", "paused", "dead"
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt ``n + 1`` after ``n`` consecutive failures: ``first_s`` doubled
    each time, capped at ``max_s``, then "equal jitter" (half of it fixed, half random), so
    a hub whose targets all failed together (its own network went down) does not retry
    them all at the same instant, and no retry follows at once."""

    first_s: float
    max_s: float
    max_attempts: int

    def delay_us(self, attempts: int, rng: Callable[[], float] = random.random) -> int:
        ceiling = min(self.max_s, self.first_s * 2 ** max(0, attempts - 1))
        return int((ceiling / 2 + rng() * ceiling / 2) * 1_000_000)


def record_failure(target: DeliveryTarget, *, error: str, now_us: int, backoff: Backoff) -> None:
    """One more failed attempt: schedule the next one, or dead-letter the target."""
    target.attempts += 1
    target.last_attempt_us = target.last_error_us = now_us
    target.last_error = error[:MAX_ERROR_CHARS]
    if target.attempts >= backoff.max_attempts:
        target.state = DEAD
    target.next_attempt_us = now_us + backoff.delay_us(target.attempts)


def record_success(target: DeliveryTarget, *, now_us: int, sent: bool) -> None:
    """An attempt that failed on nothing: the failure count starts again. ``last_success``
    moves only when something was actually sent (a pass with nothing due is not news);
    ``last_attempt`` moves on every batch, since due targets take turns by it
    (``delivery.job.due_targets``): a target whose batches its filters empty (urgent-only,
    ``--min-members``) would otherwise keep the oldest turn and go first every time."""
    target.attempts = 0
    target.next_attempt_us = 0
    target.last_attempt_us = now_us
    if sent:
        target.last_success_us = now_us


def reset(target: DeliveryTarget) -> None:
    """What an operator's retry does: active again, due now, failure count cleared (the
    last error stays visible until the next attempt succeeds or fails)."""
    target.state = ACTIVE
    target.attempts = 0
    target.next_attempt_us = 0
