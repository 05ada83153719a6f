"""schemathesis over the analyst API's OpenAPI document, against the real hub under
uvicorn with a member's token: whatever the generated request (parameters at and past
their bounds, malformed bodies, unknown refs, forged cursors), no 5xx.

Bounded (a few examples per operation) so that it stays well under a minute; the hub is
seeded first so that searches, lookups and details have data to walk through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.utils.server import Hub, running_hub, submit
from tests.utils.stix import indicator, sighting

SOC_PATHS = r"^/(api/v1/(indicators|lookup|stats|reports)|healthz|readyz)"


@pytest.fixture(scope="module")
def seeded() -> Iterator[tuple[Hub, dict[str, str]]]:
    with running_hub("sqlite", None) as hub:
        city, analyst = hub.member(), hub.member("analyst")
        first = indicator(value="198.51.100.77", confidence=60)
        submit(hub, city, first, indicator(pattern="[domain-name:value = 'schema.example']"))
        submit(hub, analyst, sighting(first["id"]))
        yield hub, {"Authorization": f"Bearer {analyst.token}"}


def test_no_request_makes_a_server_error(seeded: tuple[Hub, dict[str, str]]) -> None:
    """Every operation in turn, with schemathesis's strategies under hypothesis (its pytest
    plugin's ``from_fixture`` does not run on this pytest: it reads a private node id)."""
    hub, headers = seeded
    schema = schemathesis.openapi.from_url(f"{hub.base_url}/openapi.json").include(
        path_regex=SOC_PATHS
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any) -> None:
            response = case.call(headers=headers, timeout=30)
            case.validate_response(response, checks=[not_a_server_error])

        no_server_error()
