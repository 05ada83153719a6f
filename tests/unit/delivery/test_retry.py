"""Backoff doubles up to its cap with jitter that never retries at once, and a target is
dead-lettered after exactly ``max_attempts`` consecutive failures, keeping its cursor."""

from __future__ import annotations

from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.retry import Backoff, record_failure, record_success, reset

BACKOFF = Backoff(first_s=1, max_s=60, max_attempts=4)


def test_delay_doubles_up_to_the_cap_with_equal_jitter() -> None:
    for attempts, ceiling in [(1, 1), (2, 2), (3, 4), (7, 60), (30, 60)]:
        low = BACKOFF.delay_us(attempts, rng=lambda: 0.0)
        high = BACKOFF.delay_us(attempts, rng=lambda: 0.999999)
        assert low == ceiling * 1_000_000 // 2, attempts
        assert ceiling * 500_000 < high <= ceiling * 1_000_000, attempts


def test_dead_letter_after_max_attempts_keeps_the_cursor_and_the_last_error() -> None:
    target = DeliveryTarget(member_id=1, url="u", created_us=0, updated_us=0, cursor_us=77)
    for attempt in range(1, 5):
        record_failure(target, error=f"refused {attempt}", now_us=attempt, backoff=BACKOFF)
        assert target.attempts == attempt
        assert target.state == ("dead" if attempt == 4 else "active")
        assert target.next_attempt_us > attempt
    assert target.last_error == "refused 4" and target.cursor_us == 77
    reset(target)
    assert (target.state, target.attempts, target.next_attempt_us) == ("active", 0, 0)


def test_success_clears_failures_and_moves_last_success_only_when_sent() -> None:
    target = DeliveryTarget(member_id=1, url="u", created_us=0, updated_us=0)
    record_failure(target, error="x" * 5000, now_us=5, backoff=BACKOFF)
    assert len(target.last_error or "") == 2000, "errors are cut short"
    record_success(target, now_us=9, sent=False)
    assert target.attempts == 0 and target.last_success_us is None
    assert target.last_attempt_us == 9, "a batch its filters emptied still takes its turn"
    record_success(target, now_us=10, sent=True)
    assert target.last_success_us == target.last_attempt_us == 10
