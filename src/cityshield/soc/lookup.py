"""Bulk lookup: "has anyone seen any of these?" for up to 10,000 pasted values at once.

Each value is read as its most likely type and turned into canonical keys
(:mod:`cityshield.soc.values`); the keys' digests are looked up in batches through the
unique ``key_digest`` index, never one query per value, and only among the IOCs the
caller may see (``policy.visible_network_iocs``). A value is *known* only when a report
the caller may see names it: an IOC that only hidden reports name is unknown to that
caller, exactly as if it had never been reported.
"""

from __future__ import annotations

from sqlmodel import Session, col

from cityshield.bulk import chunks
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.iocs import key_digest
from cityshield.dedup.models import NetworkIOC
from cityshield.errors import BadRequest
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.soc.indicators import IOC_COLUMNS, network, seen_iocs, summaries
from cityshield.soc.models import LookupAnswer, LookupResult
from cityshield.soc.values import Reading, read_value
from cityshield.timefmt import now_micros

MAX_VALUES = 10_000


def lookup_values(
    session: Session,
    *,
    caller: Caller,
    context: HubContext,
    values: list[str],
    observable_type: str | None = None,
    now_us: int | None = None,
) -> LookupResult:
    """One answer per value, in the order given (repeats answered again)."""
    if len(values) > MAX_VALUES:
        raise BadRequest(f"At most {MAX_VALUES} values per lookup; got {len(values)}.")
    readings: dict[str, Reading] = {}
    for value in values:
        if value not in readings:
            readings[value] = read_value(value, observable_type)
    digests = sorted({key_digest(ioc.key) for r in readings.values() for ioc in r.iocs})
    base = policy.visible_network_iocs(caller, network(session), columns=IOC_COLUMNS)
    rows = [
        row
        for chunk in chunks(digests)
        for row in session.execute(base.where(col(NetworkIOC.key_digest).in_(chunk)))
    ]
    seen = seen_iocs(
        session, caller=caller, context=context, iocs=rows, now_us=now_us or now_micros()
    )
    known = {
        summary.key: summary
        for summary in summaries(session, caller=caller, context=context, seen=seen)
    }
    answers: list[LookupAnswer] = []
    for value in values:
        reading = readings[value]
        found = next((known[i.key] for i in reading.iocs if i.key in known), None)
        answers.append(
            LookupAnswer.model_construct(
                input=value,
                observable_type=reading.observable_type,
                key=found.key if found else (reading.iocs[0].key if reading.iocs else None),
                known=found is not None,
                problem=reading.problem,
                indicator=found,
            )
        )
    hits = sum(answer.known for answer in answers)
    return LookupResult.model_construct(answers=answers, known=hits, unknown=len(answers) - hits)
