"""The pure parts of the fast path and of webhooks: what `submit --urgent` marks, why a
mark is refused, the payload built from a member's network indicator, webhook ids."""

from __future__ import annotations

from typing import Any

from standardwebhooks.webhooks import Webhook

from cityshield.dedup.publish import CORROBORATION_EXTENSION_ID
from cityshield.delivery.urgent import (
    HOUR_US,
    URGENT_PROPERTY,
    UrgentPolicy,
    _refusal,
    is_marked,
    mark_urgent,
)
from cityshield.delivery.webhook_sender import message_id
from cityshield.delivery.webhooks import new_secret, notification

NOW = 1_800_000_000 * 1_000_000


def test_submit_marks_indicators_and_sightings_only_and_only_true_counts() -> None:
    assert mark_urgent({"type": "indicator", "id": "i"})[URGENT_PROPERTY] is True
    assert mark_urgent({"type": "sighting", "id": "s"})[URGENT_PROPERTY] is True
    assert URGENT_PROPERTY not in mark_urgent({"type": "identity", "id": "x"})
    assert is_marked({URGENT_PROPERTY: True})
    for value in ("true", 1, None, False):
        assert not is_marked({URGENT_PROPERTY: value})


def test_a_mark_is_refused_outside_submissions_when_denied_and_over_the_limit() -> None:
    allowed = UrgentPolicy(True, 2)
    assert _refusal(allowed, True, [], NOW) is None
    assert "submissions" in (_refusal(allowed, False, [], NOW) or "")
    assert "may not" in (_refusal(UrgentPolicy(False, 2), True, [], NOW) or "")
    over = _refusal(allowed, True, [NOW - 10, NOW - 5], NOW) or ""
    assert "limit of 2" in over and "2027-01-15T08:59:59.99999" in over  # oldest + 1 h
    assert "0 urgent" in (_refusal(UrgentPolicy(True, 0), True, [], NOW) or "")
    assert HOUR_US == 3_600_000_000


def view(**extension: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "id": "indicator--1",
        "created": "2026-12-01T00:00:00.000Z",
        "modified": "2026-12-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.1']",
        "confidence": 84,
        "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
        "extensions": {
            CORROBORATION_EXTENSION_ID: {
                "member_count": 2,
                "contributing_refs": ["indicator--a", "indicator--b", "indicator--c"],
                "state": "active",
                **extension,
            }
        },
    }


def test_the_payload_says_what_happened_and_who_as_far_as_the_member_may_know() -> None:
    northport = {"identity": "identity--n", "name": "northport"}
    authors = {"indicator--a": northport, "indicator--b": None}  # b: anonymous; c: not readable
    created = notification(view(urgent=True), authors)
    assert created["type"] == "indicator.created" and created["data"]["urgent"] is True
    assert created["timestamp"] == "2026-12-01T00:00:00.000Z"
    corroboration = created["data"]["corroboration"]
    assert corroboration["contributors"] == [northport]
    assert corroboration["anonymous_reports"] == 1 and corroboration["member_count"] == 2
    assert created["data"]["tlp"] == "green"
    updated = notification({**view(), "modified": "2026-12-01T00:00:01.000Z"}, authors)
    assert updated["type"] == "indicator.updated" and updated["data"]["urgent"] is False
    revoked = notification({**view(state="revoked"), "revoked": True}, {})
    assert revoked["type"] == "indicator.revoked"


def test_webhook_ids_are_stable_per_version_and_the_secret_is_standard() -> None:
    assert message_id(1, "indicator--1", "v1") == message_id(1, "indicator--1", "v1")
    assert len({message_id(1, "i", "v1"), message_id(1, "i", "v2"), message_id(2, "i", "v1")}) == 3
    secret = new_secret()
    assert secret.startswith("whsec_") and secret != new_secret()
    Webhook(secret)  # the library accepts it
