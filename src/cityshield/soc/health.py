"""Health for orchestrators: ``/healthz`` says the process answers, ``/readyz`` that it can
serve (the database answers and its schema is at this code's newest migration).

Readiness reads the revision and never upgrades: a replica started beside a newer schema,
or before the migration ran, reports itself not ready instead of serving a mismatch.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from cityshield.migrate import current_revision, head_revision
from cityshield.soc.models import Readiness


@lru_cache(maxsize=1)
def _head() -> str | None:
    """The code's newest revision: fixed for the process's life, read once."""
    return head_revision()


def readiness(engine: Engine | None) -> Readiness:
    """Whether the hub can serve; no engine yet means it is still starting."""
    head = _head()
    if engine is None:
        return Readiness(status="not ready", database=False, revision=None, head=head)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
    except SQLAlchemyError:
        return Readiness(status="not ready", database=False, revision=None, head=head)
    ready = revision == head
    return Readiness(
        status="ready" if ready else "not ready", database=True, revision=revision, head=head
    )
