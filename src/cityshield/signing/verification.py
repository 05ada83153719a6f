"""Signature checks at ingest: every object a member submits must be signed by one of that
member's keys, valid at receipt, and must not claim another author.

Runs after structural validation, before anything is written; produces a reason per
object so the status resource says exactly why an object was refused. Objects are handed
over as they are validated (:meth:`SignatureChecks.add`), so the Ed25519 checks run in the
process pool while the rest of the envelope is still being validated.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from cityshield.members.caller import Caller
from cityshield.signing.errors import SignatureError
from cityshield.signing.models import SigningKey
from cityshield.signing.pool import Verification
from cityshield.signing.registry import check_key_usable, keys_by_kid, public_key_of
from cityshield.signing.scheme import read_signature
from cityshield.stix.vocabulary import is_predefined_marking


class SignatureChecks:
    """The signature checks of one envelope's objects, for one caller at ``at_us``.

    ``expected`` is how many objects will be added at most (it decides whether the checks
    go to the process pool). Each signing key is looked up and loaded once.
    """

    def __init__(self, session: Session, *, caller: Caller, at_us: int, expected: int) -> None:
        self._session, self._caller, self._at_us = session, caller, at_us
        self._verification = Verification(expected)
        self._reasons: list[str | None] = []
        self._kids: list[str | None] = []
        self._checked: list[int] = []  # index of each object handed to the verification
        self._keys: dict[str, SigningKey | None] = {}
        self._public: dict[str, Ed25519PublicKey] = {}

    def add(self, objects: list[dict[str, Any]]) -> None:
        """Check these objects' claims and keys now and queue their signatures."""
        start = len(self._reasons)
        self._reasons.extend([None] * len(objects))
        self._kids.extend([None] * len(objects))
        signed: list[tuple[int, tuple[str, bytes]]] = []
        for i, obj in enumerate(objects, start):
            if is_predefined_marking(obj):
                continue
            creator = obj.get("created_by_ref")
            if creator is not None and creator != self._caller.identity_id:
                self._reasons[i] = (
                    f"created_by_ref {creator} is not the submitting member's identity "
                    f"{self._caller.identity_id} (reason: created-by-ref-mismatch)"
                )
                continue
            try:
                entry = read_signature(obj)
            except SignatureError as exc:
                self._reasons[i] = _reason(exc)
                continue
            self._kids[i] = entry[0]
            signed.append((i, entry))
        unknown = {kid for _, (kid, _) in signed if kid not in self._keys}
        if unknown:
            found = keys_by_kid(self._session, unknown)
            self._keys.update({kid: found.get(kid) for kid in unknown})
        for i, entry in signed:
            kid = entry[0]
            key = self._keys[kid]
            try:
                check_key_usable(key, kid=kid, member_id=self._caller.member_id, at_us=self._at_us)
            except SignatureError as exc:
                self._reasons[i] = _reason(exc)
                continue
            assert key is not None
            public = self._public.get(kid)
            if public is None:
                public = self._public[kid] = public_key_of(key)
            self._checked.append(i)
            self._verification.add(objects[i - start], public, entry)

    def results(self) -> tuple[list[str | None], list[str | None]]:
        """For each object added, in order: (reason it is refused or None, kid that signed
        it or None). Waits for the last signatures."""
        for i, error in zip(self._checked, self._verification.results(), strict=True):
            if error is not None:
                self._reasons[i] = _reason(error)
        return self._reasons, self._kids


def signature_reasons(
    session: Session, *, caller: Caller, objects: list[dict[str, Any]], at_us: int
) -> tuple[list[str | None], list[str | None]]:
    """For each object: (reason it is refused or None, kid that signed it or None)."""
    checks = SignatureChecks(session, caller=caller, at_us=at_us, expected=len(objects))
    checks.add(objects)
    return checks.results()


def _reason(error: SignatureError) -> str:
    return f"{error.description} (reason: {error.reason})"
