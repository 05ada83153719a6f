"""Noninterference: everything a member receives is a function of the reports it may see.

Hypothesis generates a network (a viewer and two other cities in random regions), and a
timeline of reports (new ones and revisions, TLP CLEAR/GREEN/AMBER/RED or unmarked, some
revoked) and policy reloads (the default marking). The timeline runs twice on two copies
of one hub, each step at the same instant of a controlled clock, with the network
publisher and ageing run after every step as ``serve`` would: once with every report, and
once without the reports the viewer may never see (RED ones and AMBER ones from outside its
groups, by other cities). Every read path must then answer the viewer byte for byte the
same: objects of every collection (all versions, in small pages, with their date_added),
manifests, each object's versions and each object by id, the block export, every export
format (bytes, ETag, since token, counts, truncation, deltas), and what push
delivery sends the viewer's own TAXII server (its network view after every step, in
batches of two, then its network and its submissions view from the start), what its
urgent-only webhook is notified of, what the web page's dashboard shows it (newest and
most corroborated indicators, submissions per day, its delivery state), what its analysts
get from the REST API (search pages with their totals and order, bulk lookup answers,
indicator detail, statistics), and the feeds' health (refused to a member). Reports are
marked urgent at random: another city's urgent report the viewer may not see must change
nothing the viewer gets, its order of arrival included. One of the authors is a feed the
hub pulls (its principal, role ``feed``, with groups of its own): the network view counts
it apart from the members (``feed_count``), and its hidden reports must change that count
no more than anything else.

This is the guard every new read path joins: add it to :func:`observe`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session

from cityshield import timefmt
from cityshield.client.push import PushItem, PushResult
from cityshield.config import Settings
from cityshield.db import make_engine, session_scope
from cityshield.dedup.service import age_network, publish_pending
from cityshield.delivery.credentials import cipher
from cityshield.delivery.models import DeliveryTarget
from cityshield.delivery.retry import Backoff
from cityshield.delivery.run import DeliveryOptions, deliver_target
from cityshield.delivery.targets import TargetSpec, register_target
from cityshield.delivery.urgent import URGENT_PROPERTY
from cityshield.delivery.webhooks import WEBHOOK, register_webhook
from cityshield.errors import Forbidden
from cityshield.exports.query import FORMATS, parse_request
from cityshield.exports.service import blocklist, build_export
from cityshield.exports.values import ValueLimits
from cityshield.feeds.api import list_feeds
from cityshield.flows.ingest import add_objects
from cityshield.flows.policy import load_policy_files
from cityshield.hub.service import ensure_hub, load_hub_context
from cityshield.members.service import (
    FEED_PREFIX,
    caller_for,
    create_member,
    ensure_feed_principal,
    get_member,
)
from cityshield.migrate import upgrade
from cityshield.signing.registry import register_key
from cityshield.signing.scheme import sign_object
from cityshield.soc import service as soc
from cityshield.stix.vocabulary import TLP2
from cityshield.store.collections import get_collection_by_alias
from cityshield.store.models import Collection
from cityshield.taxii import service as taxii_service
from cityshield.taxii.filters import parse_filters
from cityshield.timefmt import format_timestamp
from cityshield.web.dashboard import build_dashboard

FEED = "feed.watch"
VIEWER, OTHERS = "viewer", ("east", "west", FEED)
IPS = ("198.51.100.21", "198.51.100.22", "203.0.113.23")
LEVELS = ("clear", "green", "amber", "red", None)
MARKING = {level: marking for marking, level in TLP2.items()}
START_US = 1_800_000_000 * 1_000_000  # 2027-01-15; every step is one second later
OBSERVED_US = START_US + 3_600_000_000
"""When pages that take the time are read: the same instant in both runs (each run's clock
ends at its own last step)."""
NAMESPACE = uuid.UUID("0b6e1c52-9d7a-4f3e-8a21-5c4d3b2a1f00")


@dataclass(frozen=True)
class Report:
    author: str
    ip: int
    level: str | None
    original: int  # reports with the same (author, original) are versions of one object
    revoked: bool
    confidence: int
    urgent: bool = False


@dataclass(frozen=True)
class Reload:
    default_marking: str


Step = Report | Reload


@dataclass(frozen=True)
class Scenario:
    groups: dict[str, frozenset[str]]
    steps: tuple[Step, ...]

    def hidden_from_viewer(self, report: Report) -> bool:
        """A report the viewer may never see, whatever policy is loaded: another city's
        RED, or its AMBER when they share no group (markings never change between
        versions here, so hiding one hides all of the original's versions)."""
        if report.author == VIEWER:
            return False
        if report.level == "red":
            return True
        shared = self.groups[VIEWER] & self.groups[report.author]
        return report.level == "amber" and not shared


@st.composite
def scenarios(draw: Any) -> Scenario:
    regions = st.frozensets(st.sampled_from(["north", "south"]), max_size=2)
    groups = {name: draw(regions) for name in (VIEWER, *OTHERS)}
    steps: list[Step] = []
    levels: dict[tuple[str, int], tuple[str | None, int]] = {}
    for _ in range(draw(st.integers(2, 9))):
        if draw(st.integers(0, 5)) == 0:
            steps.append(Reload(draw(st.sampled_from(["green", "amber", "red"]))))
            continue
        author = draw(st.sampled_from((VIEWER, *OTHERS)))
        original = draw(st.integers(0, 2))
        level, ip = levels.setdefault(
            (author, original), (draw(st.sampled_from(LEVELS)), draw(st.integers(0, 2)))
        )
        steps.append(
            Report(
                author,
                ip,
                level,
                original,
                draw(st.booleans()),
                draw(st.integers(0, 100)),
                draw(st.booleans()),
            )
        )
    return Scenario(groups, tuple(steps))


def key_of(name: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(name.encode()).digest())


class Clock:
    """Stands in for the ``time`` module in cityshield.timefmt: the hub's now is ours."""

    def __init__(self) -> None:
        self.now_us = START_US

    def time_ns(self) -> int:
        return self.now_us * 1000

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def build_template(home: Path, url: str, groups: dict[str, frozenset[str]]) -> None:
    """A hub with its identity, the three cities and their keys, before any step."""
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        ensure_hub(session, home=home, name="noninterference hub")
        for name in (VIEWER, *OTHERS):
            if name == FEED:  # a feed's principal, as a feed definition makes it
                ensure_feed_principal(
                    session, feed_name=FEED.removeprefix(FEED_PREFIX), groups=sorted(groups[name])
                )
            else:
                create_member(session, name=name, groups=sorted(groups[name]))
            member = get_member(session, name)
            assert member is not None
            register_key(session, public_key=key_of(name).public_key(), member_id=member.id)
        register_push_target(session, home, view="network")
        register_webhook(
            session,
            member_name=VIEWER,
            url="https://viewer.example/hooks",
            urgent_only=True,
            fernet=cipher(home),
            now_us=timefmt.now_micros(),
        )
    engine.dispose()


class Recorder:
    """Stands in for the viewer's TAXII server: keeps every batch it is sent."""

    def __init__(self, batches: list[list[str]]) -> None:
        self.batches = batches

    def push(self, items: Sequence[PushItem]) -> PushResult:
        self.batches.append([item.body for item in items])
        return PushResult(delivered={item.object_id for item in items})

    def close(self) -> None:
        pass


def register_push_target(
    session: Session, home: Path, *, view: str, url: str = "https://viewer.example/api1/"
) -> None:
    register_target(
        session,
        member_name=VIEWER,
        spec=TargetSpec(url, "c", view),
        fernet=cipher(home),
        now_us=timefmt.now_micros(),
    )


def push(engine: Any, home: Path, batches: list[list[str]], kind: str = "taxii") -> None:
    """One delivery run for the viewer's target (or webhook), as the worker's delivery job
    would do."""
    with Session(engine) as session:
        target_id = session.execute(
            select(DeliveryTarget.id).where(DeliveryTarget.kind == kind)
        ).scalar_one()
    deliver_target(
        engine,
        target_id,
        options=DeliveryOptions(
            batch_size=2,
            backoff=Backoff(first_s=1, max_s=1, max_attempts=3),
            recheck_us=0,
            lease_us=60_000_000,
            fernet=cipher(home),
        ),
        holder="noninterference",
        open_sender=lambda _destination: Recorder(batches),
        stopping=lambda: False,
    )


def report_object(report: Report, version: int) -> dict[str, Any]:
    original_id = uuid.uuid5(NAMESPACE, f"{report.author}/{report.original}")
    created = format_timestamp(START_US)
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{original_id}",
        "created": created,
        "modified": format_timestamp(START_US + version * 1000),
        "name": f"{report.author} report {report.original}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{IPS[report.ip]}']",
        "pattern_type": "stix",
        "valid_from": created,
        "confidence": report.confidence,
    }
    if report.level is not None:
        obj["object_marking_refs"] = [MARKING[report.level]]
    if report.revoked:
        obj["revoked"] = True
    if report.urgent:
        obj[URGENT_PROPERTY] = True
    return obj


def run(
    url: str, home: Path, steps: list[tuple[int, Step]], clock: Clock, end_us: int
) -> dict[str, Any]:
    """Play the steps (each at its own second) and return what the viewer observes at
    ``end_us``: the same instant in both runs, whichever steps ran. The new targets after
    the steps are registered and served then too (time goes on whether or not hidden reports
    arrived), and what depends on the time of reading, such as the statistics' default
    period, must not differ because the last step was a hidden one."""
    engine = make_engine(url)
    pushed: dict[str, list[list[str]]] = {
        "push network": [],
        "push submissions": [],
        "push network afresh": [],
        "webhook": [],
    }
    try:
        settings_ = Settings(home=home, database_url=url)
        with session_scope(engine) as session:
            context = load_hub_context(session, settings_)
        for index, step in steps:
            clock.now_us = START_US + (index + 1) * 1_000_000
            with session_scope(engine) as session:
                if isinstance(step, Reload):
                    path = home / f"policy-{index}.yaml"
                    path.write_text(f"version: 1\ndefault_marking: {step.default_marking}\n")
                    load_policy_files(session, [path])
                else:
                    member = get_member(session, step.author)
                    assert member is not None
                    obj = sign_object(report_object(step, index), key_of(step.author))
                    status = add_objects(
                        session,
                        caller=caller_for(session, member),
                        collection=get_collection_by_alias(session, "submissions"),
                        objects=[obj],
                        network=context,
                    )
                    assert status.failure_count == 0, status.details
            for _ in range(100):
                with session_scope(engine) as session:
                    if not publish_pending(session, context=context):
                        break
            with session_scope(engine) as session:
                age_network(session, context=context, now_us=clock.now_us)
            push(engine, home, pushed["push network"])
            push(engine, home, pushed["webhook"], kind=WEBHOOK)
        clock.now_us = end_us
        with session_scope(engine) as session:  # a new server: all of it at once, urgent first
            register_push_target(session, home, view="network", url="https://new.example/api1/")
        push(engine, home, pushed["push network afresh"])
        with session_scope(engine) as session:
            register_push_target(session, home, view="submissions")
        push(engine, home, pushed["push submissions"])
        with Session(engine) as session:
            return {**observe(session, context), **pushed}
    finally:
        engine.dispose()


def _filters(params: dict[str, str]) -> Any:
    return parse_filters(
        params,
        allowed=frozenset({"id", "type", "version", "spec_version"}),
        default_limit=2,
        max_limit=2,
    )


def _all_pages(fetch: Any, params: dict[str, str]) -> Iterator[list[Any]]:
    """Every page of a keyset-paged read, following ``next`` (pages of 2 objects)."""
    token: str | None = None
    for _ in range(1000):
        page = fetch(_filters({**params, **({"next": token} if token else {})}))
        yield page.rows
        if not page.more:
            return
        token = page.next
    raise AssertionError("paging did not end")


def observe(session: Session, context: Any) -> dict[str, Any]:
    """Everything the viewer can read, by read path."""
    member = get_member(session, VIEWER)
    assert member is not None
    caller = caller_for(session, member)
    seen: dict[str, Any] = {}
    collections = session.execute(select(Collection).order_by(Collection.alias)).scalars()
    for collection in collections:
        every = {"match[version]": "all"}

        def objects(filters: Any, collection: Collection = collection) -> Any:
            return taxii_service.list_objects(
                session, caller=caller, collection=collection, filters=filters
            )

        def manifest(filters: Any, collection: Collection = collection) -> Any:
            return taxii_service.get_manifest(
                session, caller=caller, collection=collection, filters=filters
            )

        rows = [row for page in _all_pages(objects, every) for row in page]
        seen[f"{collection.alias} objects"] = rows
        seen[f"{collection.alias} latest"] = [r for p in _all_pages(objects, {}) for r in p]
        seen[f"{collection.alias} manifest"] = [r for p in _all_pages(manifest, every) for r in p]
        for object_id in sorted({orjson.loads(body)["id"] for body, _ in rows}):
            seen[f"{collection.alias} {object_id}"] = taxii_service.get_object(
                session,
                caller=caller,
                collection=collection,
                object_id=object_id,
                filters=_filters(every),
            ).rows
            seen[f"{collection.alias} {object_id} versions"] = taxii_service.list_versions(
                session,
                caller=caller,
                collection=collection,
                object_id=object_id,
                filters=_filters({}),
            ).rows
    seen["blocklist"] = blocklist(
        session, caller=caller, context=context, observable_type="ipv4-addr"
    )
    dashboard = build_dashboard(session, caller=caller, now_us=OBSERVED_US, job_intervals={})
    seen["web dashboard"] = dataclasses.asdict(dashboard)
    seen.update(observe_analyst_api(session, caller, context))
    seen.update(exports(session, caller, context))
    try:  # the admin API's handler, as the viewer calls it
        seen["feeds"] = [f.model_dump() for f in list_feeds(session=session, caller=caller)]
    except Forbidden as refused:
        seen["feeds"] = refused.description
    return seen


SEARCHES: tuple[dict[str, Any], ...] = (
    {},
    {"sort": "value"},
    {"sort": "-members"},
    {"sort": "first_seen"},
    {"sort": "-confidence", "state": "active"},
    {"min_members": 2},
    {"tlp": "green"},
    {"tlp": "amber"},
    {"value": "198[.]51.100.21/32"},
    {"prefix": "198.51.100"},
    *({"member": name} for name in (VIEWER, *OTHERS)),
    {"seen_after_us": START_US + 3_000_000},
)


def observe_analyst_api(session: Session, caller: Any, context: Any) -> dict[str, Any]:
    """What the viewer's analysts get from /api/v1 and the web page's analyst pages (which
    call the same functions): every search page (pages of 2, with their totals and order),
    a bulk lookup of every value in several spellings, each indicator's detail (versions,
    sightings, deliveries, timeline), the revocation to sign of each of the viewer's own
    reports, and the statistics (the dashboard's chart)."""
    seen: dict[str, Any] = {}
    for params in SEARCHES:
        pages, cursor = [], None
        for _ in range(100):
            query = soc.SearchQuery(**params, limit=2, cursor=cursor)
            page = soc.search_indicators(session, caller=caller, context=context, query=query)
            pages.append(page.model_dump())
            if page.next is None:
                break
            cursor = page.next
        seen[f"soc search {params}"] = pages
    spellings = [v for ip in IPS for v in (ip, ip.replace(".", "[.]"), f"{ip}/32")]
    lookup = soc.lookup_values(session, caller=caller, context=context, values=spellings)
    seen["soc lookup"] = lookup.model_dump()
    for answer in lookup.answers:
        if answer.indicator is not None:
            detail = soc.indicator_detail(
                session, caller=caller, context=context, ref=answer.indicator.ref
            )
            seen[f"soc detail {answer.key}"] = detail.model_dump()
            for own in (c for c in detail.reports + detail.sightings if c.yours and not c.revoked):
                # the web page's "Revoke…" page shows this (the viewer's own reports)
                seen[f"soc revocation {own.object_id}"] = soc.revocation_template(
                    session, caller=caller, object_id=own.object_id
                )
    seen["soc stats"] = soc.submission_stats(session, caller=caller).model_dump()
    return seen


EXPORT_QUERIES: tuple[dict[str, str], ...] = (
    {},
    {"max": "2"},
    {"min_members": "2", "min_confidence": "60"},
    {"tlp": "green"},
    {"since": format_timestamp(START_US + 3_000_000)},  # what changed from the third step on
)


def exports(session: Session, caller: Any, context: Any) -> dict[str, Any]:
    """Every export format (bytes and headers: ETag, since token, counts, truncation) with
    several queries, and the answer to its own ETag."""
    seen: dict[str, Any] = {}
    for fmt in FORMATS:
        for params in EXPORT_QUERIES:
            outcome = build_export(
                session,
                caller=caller,
                context=context,
                request=parse_request(fmt, params.items()),
                limits=ValueLimits(),
            )
            again = build_export(
                session,
                caller=caller,
                context=context,
                request=parse_request(fmt, params.items()),
                limits=ValueLimits(),
                if_none_match=outcome.headers["ETag"],
            )
            seen[f"export {fmt} {params}"] = (outcome.body, outcome.headers, again.not_modified)
    return seen


def check(scenario: Scenario, make_url: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(timefmt, "time", clock)
    base = Path(tempfile.mkdtemp(prefix="cityshield-nonint-"))
    try:
        steps = list(enumerate(scenario.steps))
        visible = [
            (i, s)
            for i, s in steps
            if not (isinstance(s, Report) and scenario.hidden_from_viewer(s))
        ]
        homes = [base / "full", base / "visible"]
        urls = make_url(homes, scenario.groups)
        end_us = START_US + (len(steps) + 1) * 1_000_000
        full = run(urls[0], homes[0], steps, clock, end_us)
        clock.now_us = START_US
        only_visible = run(urls[1], homes[1], visible, clock, end_us)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    differences = sorted(
        k for k in full.keys() | only_visible.keys() if full.get(k) != only_visible.get(k)
    )
    assert not differences, f"{scenario}\nviewer's reads that changed: {differences}\n" + "\n".join(
        f"{k}:\n  all reports:  {full.get(k)}\n  visible only: {only_visible.get(k)}"
        for k in differences[:3]
    )


def sqlite_copies(homes: list[Path], groups: dict[str, frozenset[str]]) -> list[str]:
    """Two copies of one hub (same identity, keys and members), one per run."""
    template = homes[0].parent / "template"
    template.mkdir(parents=True)
    url = f"sqlite:///{template / 'hub.db'}"
    build_template(template, url, groups)
    urls = []
    for home in homes:
        shutil.copytree(template, home)
        urls.append(f"sqlite:///{home / 'hub.db'}")
    return urls


NONINTERFERENCE = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


FEED_SCENARIO = Scenario(
    groups={
        VIEWER: frozenset({"north"}),
        "east": frozenset(),
        "west": frozenset({"north"}),
        FEED: frozenset({"south"}),
    },
    steps=(
        Report(FEED, 0, "amber", 0, False, 70),  # hidden: the feed shares no group with it
        Report("east", 0, "green", 0, False, 60),  # the same IOC, visible
        Report(FEED, 1, "green", 1, False, 70),
        Report(FEED, 1, "green", 1, True, 70),  # withdrawn from the list
    ),
)
"""A feed's hidden report beside a city's visible one of the same IOC: the viewer's
network indicator must not count the feed (drawn scenarios may not reach this)."""


@NONINTERFERENCE
@example(scenario=FEED_SCENARIO)
@given(scenario=scenarios())
def test_what_the_viewer_reads_depends_only_on_what_it_may_see(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    check(scenario, sqlite_copies, monkeypatch)


@pytest.mark.postgres
@settings(NONINTERFERENCE, max_examples=3)
@given(scenario=scenarios())
def test_noninterference_on_postgres(
    scenario: Scenario, postgres: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def copies(homes: list[Path], groups: dict[str, frozenset[str]]) -> list[str]:
        template = homes[0].parent / "template"
        template.mkdir(parents=True)
        url = postgres.create_database("nonint")
        build_template(template, url, groups)
        for home in homes:
            shutil.copytree(template, home)
        name = url.rsplit("/", 1)[1]
        return [postgres.create_database("nonint", template=name) for _ in homes]

    check(scenario, copies, monkeypatch)
