"""Schema migrations keep what is stored: an IOC table written before the lean dedup
indexes (0007) comes out with the same IOCs, their key digests, their pending state and
the contributions that reference them (SQLite rebuilds the table to change it)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from cityshield.db import make_engine
from cityshield.dedup.iocs import key_digest
from cityshield.dedup.publish import network_indicator_id
from cityshield.migrate import alembic_config
from tests.conftest import BACKENDS, database_url

IOCS = [
    # (key, dirty): one published IOC, one waiting for publication
    ("ipv4-addr:value=198.51.100.7", False),
    ("domain-name:value=evil.example", True),
]
NEW = "url:value=http://evil.example/a"
INSERT_NEW_IOC = text(
    "INSERT INTO network_ioc (key_digest, key, generation, observable_type, "
    "pattern, state, created_us) VALUES (:d, :k, 0, 'x', :k, 'active', 1)"
)
"""An IOC row as the schema has it from 0007 on (a 16-byte key digest, no indicator id)."""
CONTRIBUTION_PER_IOC = text(
    "INSERT INTO contribution (ioc_id, object_id, kind, version_us, "
    "indicator_types, first_seen_us, last_seen_us, revoked) SELECT id, "
    "'indicator--1', 'indicator', 1, '', 1, 1, false FROM network_ioc"
)
"""One contribution for every IOC row (the columns are the same from 0006 to 0012)."""
ROLES = text("SELECT alias, write_roles FROM collection")


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request.param, request) or f"sqlite:///{tmp_path / 'hub.db'}"


def test_0007_keeps_iocs_their_digests_and_what_is_pending(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "0006")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for key, dirty in IOCS:
                connection.execute(
                    text(
                        "INSERT INTO network_ioc (key_hash, key, indicator_id, generation, "
                        "observable_type, pattern, state, created_us, dirty) VALUES (:h, :k, "
                        ":i, 0, 'x', :k, 'active', 1, :d)"
                    ),
                    {
                        "h": hashlib.sha256(key.encode()).hexdigest(),
                        "k": key,
                        "i": f"indicator--{key}",
                        "d": dirty,
                    },
                )
            connection.execute(CONTRIBUTION_PER_IOC)
        command.upgrade(config, "head")
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT key, key_digest FROM network_ioc")).all()
            contributions = connection.execute(text("SELECT count(*) FROM contribution")).scalar()
            pending = connection.execute(
                text("SELECT n.key FROM network_pending p JOIN network_ioc n ON n.id = p.ioc_id")
            ).all()
        assert {key: bytes(digest) for key, digest in stored} == {
            key: key_digest(key) for key, _ in IOCS
        }
        assert [key for (key,) in pending] == [key for key, dirty in IOCS if dirty]
        assert contributions == len(IOCS), "rebuilding the IOC table must not cascade"
        with engine.begin() as connection:  # created after 0007, not yet published
            connection.execute(INSERT_NEW_IOC, {"d": key_digest(NEW), "k": NEW})
        command.downgrade(config, "0006")
        with engine.connect() as connection:
            back = connection.execute(
                text("SELECT key, key_hash, dirty, indicator_id FROM network_ioc")
            ).all()
        assert {key: (hex_hash, bool(dirty)) for key, hex_hash, dirty, _ in back} == {
            key: (hashlib.sha256(key.encode()).hexdigest(), dirty)
            for key, dirty in [*IOCS, (NEW, False)]
        }
        assert {key: i for key, _, _, i in back}[NEW] == network_indicator_id(NEW)
    finally:
        engine.dispose()


def test_0014_lets_feeds_submit_and_marks_no_contribution_as_a_feeds(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "0013")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO collection (id, alias, title, description, read_roles, "
                    "write_roles, last_added_us) VALUES ('s', 'submissions', 'S', '', "
                    "'member,analyst,admin', 'member,analyst,admin', 0), ('h', 'hub', 'H', "
                    "'', 'member,analyst,admin', '', 0)"
                )
            )
            connection.execute(INSERT_NEW_IOC, {"d": key_digest(NEW), "k": NEW})
            connection.execute(CONTRIBUTION_PER_IOC)
        command.upgrade(config, "head")
        with engine.connect() as connection:
            roles = dict(connection.execute(ROLES).all())
            from_feed = connection.execute(text("SELECT from_feed FROM contribution")).scalars()
            assert roles == {"submissions": "member,analyst,admin,feed", "hub": ""}
            assert list(from_feed) == [False]
            assert connection.execute(text("SELECT count(*) FROM feed_item")).scalar() == 0
        command.downgrade(config, "0013")
        with engine.connect() as connection:
            roles = dict(connection.execute(ROLES).all())
            assert roles == {"submissions": "member,analyst,admin", "hub": ""}
            assert connection.execute(text("SELECT count(*) FROM contribution")).scalar() == 1
    finally:
        engine.dispose()


def test_0015_keeps_the_queue_and_collections(url: str) -> None:
    """The queue's change counter and the lock count start at 0 for what is stored, and
    going back keeps the rows."""
    config = alembic_config(url)
    command.upgrade(config, "0014")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO network_ioc (key_digest, key, generation, observable_type, "
                    "pattern, state, created_us) VALUES (:d, :k, 0, 'x', :k, 'active', 1)"
                ),
                {"d": key_digest(NEW), "k": NEW},
            )
            connection.execute(
                text(
                    "INSERT INTO network_pending (ioc_id, urgent) SELECT id, true FROM network_ioc"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO collection (id, title, description, read_roles, write_roles, "
                    "last_added_us) VALUES ('c', 'c', '', '', '', 7)"
                )
            )
        command.upgrade(config, "0015")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT urgent, seq FROM network_pending")).all() == [
                (True, 0)
            ]
            assert connection.execute(
                text("SELECT last_added_us, locks_taken FROM collection")
            ).all() == [(7, 0)]
        command.downgrade(config, "0014")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT urgent FROM network_pending")).all() == [(True,)]
            assert connection.execute(text("SELECT last_added_us FROM collection")).all() == [(7,)]
    finally:
        engine.dispose()
