"""The one ingest path: every object a member sends (TAXII POST, CLI submit, feed pulls)
goes through :func:`add_objects` (a TAXII POST's envelope through :func:`add_envelope`):
validate, check claims, verify signatures, write, decide audiences, republish anonymous
objects, record network contributions.

Objects are validated and their signatures verified before any lock is taken (that is the
CPU-heavy part; the signatures of each validated chunk are checked in the process pool
while the next chunk is validated); then every accepted object is written in a single
transaction together with the network corroboration it feeds and the status resource. An
object is written whole or not at all, and a failure of one object never costs the others
in the envelope.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from sqlmodel import Session

from cityshield.bulk import chunks
from cityshield.dedup.hub_context import HubContext
from cityshield.dedup.service import record_contributions
from cityshield.delivery.urgent import grant_urgent, with_republications
from cityshield.errors import InvalidEnvelope
from cityshield.flows.claims import check_claims
from cityshield.hub.anonymity import republish_anonymous
from cityshield.members.caller import Caller
from cityshield.policy import service as policy
from cityshield.policy.audience import policy_state, write_audience
from cityshield.signing.scheme import sign_object
from cityshield.signing.verification import SignatureChecks
from cityshield.stix.validation import validate_object
from cityshield.store.collections import SUBMISSIONS_ALIAS
from cityshield.store.models import Collection, Status
from cityshield.store.writer import (
    Candidate,
    Validator,
    WriteResult,
    Written,
    check_objects,
    describe,
    write_candidates,
)
from cityshield.timefmt import now_micros


def add_envelope(
    session: Session,
    *,
    caller: Caller,
    collection: Collection,
    envelope: Any,
    network: HubContext | None,
) -> Status:
    """:func:`add_objects` for a parsed TAXII envelope; InvalidEnvelope if it is none."""
    return add_objects(
        session,
        caller=caller,
        collection=collection,
        objects=_envelope_objects(envelope),
        network=network,
    )


def _envelope_objects(envelope: Any) -> list[Any]:
    """The ``objects`` list of a TAXII envelope; InvalidEnvelope if there is none."""
    if not isinstance(envelope, dict):
        raise InvalidEnvelope("The request body must be a TAXII envelope: a JSON object.")
    objects = envelope.get("objects")
    if not isinstance(objects, list):
        raise InvalidEnvelope("The envelope must have an 'objects' list.")
    return objects


def add_objects(
    session: Session,
    *,
    caller: Caller,
    collection: Collection,
    objects: list[Any],
    network: HubContext | None,
    validate: Validator = validate_object,
    signed_by_hub: bool = False,
) -> Status:
    """Validate, verify signatures and store an envelope's objects; return the status.

    Objects stored in ``submissions`` also feed the network view when ``network`` is given
    (the server and CLI always give it; only storage-level tests pass None). The same
    (id, version) posted twice is one record and a success both times.

    ``signed_by_hub``: the hub authors and signs the objects on the caller's behalf (an
    analyst's sighting reported over the REST API, which holds no member key): their
    ``created_by_ref`` becomes the hub's identity, so anyone checking them against the
    JWKS finds the signer named; they are stored as the caller's, shared as their
    markings say and contribute to the network like the caller's own reports.
    """
    policy.require_can_write(caller, collection)
    request_us = now_micros()
    if signed_by_hub:
        objects = _hub_signed(objects, network)
    checks = (
        None
        if signed_by_hub
        else SignatureChecks(session, caller=caller, at_us=request_us, expected=len(objects))
    )
    candidates: list[Candidate] = []
    failures: list[dict[str, str]] = []
    for chunk in chunks(objects, VALIDATION_CHUNK):
        valid, refused = check_objects(list(chunk), validate)
        failures.extend(refused)
        if checks is not None:  # verified while we validate on
            checks.add([candidate.obj for candidate in valid])
        candidates.extend(valid)
    claims = check_claims(session, candidates)
    failures.extend(claims.failures)
    if checks is None:
        kept = _by_hub(claims.kept, network)
    else:
        kept = _signed_by_caller(checks, candidates, claims.kept, failures)
    result = WriteResult(successes=claims.no_ops, failures=failures)
    if kept:
        write_candidates(
            session,
            collection=collection,
            candidates=kept,
            submitter_id=caller.member_id,
            result=result,
            by_member=True,
        )
    if result.written:
        urgent: set[str] = set()
        if network is not None and not signed_by_hub:  # the crisis fast path (delivery.urgent)
            urgent = grant_urgent(
                session,
                member_id=caller.member_id,
                written=result.written,
                successes=result.successes,
                in_submissions=collection.alias == SUBMISSIONS_ALIAS,
                default_per_hour=network.urgent_per_hour,
                now_us=request_us,
            )
        _share(
            session, network=network, collection=collection, written=result.written, urgent=urgent
        )
    status = Status(
        id=str(uuid.uuid4()),
        member_id=caller.member_id,
        collection_id=collection.id,
        status="complete",
        request_us=request_us,
        total_count=len(objects),
        success_count=len(result.successes),
        failure_count=len(result.failures),
        pending_count=0,
        details=orjson.dumps(
            {"successes": result.successes, "failures": result.failures, "pendings": []}
        ).decode(),
    )
    session.add(status)
    session.flush()
    return status


def _share(
    session: Session,
    *,
    network: HubContext | None,
    collection: Collection,
    written: list[Written],
    urgent: set[str],
) -> None:
    """Decide who may see the new objects, republish anonymous ones, feed the network
    (``urgent``: the ids whose urgent mark was honoured)."""
    state = policy_state(session)
    write_audience(session, state, [(w.pk, w.obj, w.submitter_id, w.kid) for w in written])
    if network is None:
        return  # storage-level callers: anonymous originals simply stay private
    shared = republish_anonymous(
        session, state=state, context=network, collection=collection, written=written
    )
    if collection.alias == SUBMISSIONS_ALIAS:
        record_contributions(session, written=shared, urgent=with_republications(urgent))


def _hub_signed(objects: list[Any], network: HubContext | None) -> list[Any]:
    """The objects as the hub authors them: its identity as creator, its signature."""
    if network is None:
        raise ValueError("objects signed by the hub need the hub's context")
    return [
        sign_object({**obj, "created_by_ref": network.hub_identity_id}, network.hub_key)
        if isinstance(obj, dict)
        else obj
        for obj in objects
    ]


def _by_hub(candidates: list[Candidate], network: HubContext | None) -> list[Candidate]:
    """Objects :func:`_hub_signed` just signed need no verification: they carry its kid."""
    assert network is not None
    for candidate in candidates:
        candidate.kid = network.hub_kid
    return candidates


def _signed_by_caller(
    checks: SignatureChecks,
    checked: list[Candidate],
    candidates: list[Candidate],
    failures: list[dict[str, str]],
) -> list[Candidate]:
    """Keep the ``candidates`` validly signed by the caller; the others join ``failures``
    (``checked``: every candidate, in the order handed to ``checks``)."""
    reasons, kids = checks.results()
    position = {id(candidate): i for i, candidate in enumerate(checked)}
    kept: list[Candidate] = []
    for candidate in candidates:
        i = position[id(candidate)]
        if reasons[i] is None:
            candidate.kid = kids[i]
            kept.append(candidate)
        else:
            failures.append({**describe(candidate.obj), "message": reasons[i] or ""})
    return kept


VALIDATION_CHUNK = 64
"""Objects validated before their signatures are handed to the verification pool: the
pool checks one chunk while the next is validated."""
