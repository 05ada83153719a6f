"""Valid STIX 2.1 indicators for the benchmark, signed by the submitting member as the hub
requires: minimal ones with unique ids and unique IPv4 patterns (store-size sweep,
medallion comparison), and realistic city reports with TLP markings and repeated IOCs (the
network scenarios)."""

from __future__ import annotations

import ipaddress
import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from cityshield.policy.engine import AUDIENCE_EXTENSION_ID
from cityshield.stix.vocabulary import TLP2_IDS
from tests.utils.server import TestMember

STAMP = "2026-11-20T09:00:00.000Z"
_serial = itertools.count(1)


def indicator(n: int) -> dict[str, Any]:
    """Indicator number ``n``; its address 10.a.b.c is unique for n < 2**24."""
    address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": STAMP,
        "modified": STAMP,
        "name": f"bench indicator {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
    }


def indicators(count: int) -> list[dict[str, Any]]:
    """``count`` fresh indicators; numbers are never reused within one run."""
    return [indicator(next(_serial)) for _ in range(count)]


def signed_indicators(member: TestMember, count: int) -> list[dict[str, Any]]:
    """``count`` fresh indicators signed with ``member``'s registered key."""
    return member.sign(*indicators(count))


def envelopes(objects: list[dict[str, Any]], size: int = 500) -> Iterator[bytes]:
    """Serialised TAXII envelopes of ``size`` objects (built before any timing starts)."""
    for start in range(0, len(objects), size):
        yield orjson.dumps({"objects": objects[start : start + size]})


# --------------------------------------------------------------------------------------------
# Realistic reports for the network scenarios: what a city SOC posts to ``submissions``.

TLP_GREEN, TLP_AMBER, TLP_RED = TLP2_IDS["green"], TLP2_IDS["amber"], TLP2_IDS["red"]
TLP_MIX = (("green", 0.50), ("amber", 0.35), ("unmarked", 0.10), ("red", 0.05))
"""Share of each TLP level in a report batch; unmarked objects get the policy default
(AMBER); RED ones name one recipient in the audience extension."""

IOC = tuple[str, str]
"""(kind, canonical value): kind ``ipv4`` or ``domain``."""

_ioc_serial = itertools.count(1)


def fresh_ioc() -> IOC:
    """A never-reported IOC, half IPv4 (in 100.64.0.0/10, never allowlisted), half domains."""
    n = next(_ioc_serial)
    if n % 2:
        return "ipv4", f"100.{64 + (n >> 17 & 63)}.{n >> 9 & 255}.{n >> 1 & 255}"
    return "domain", f"login-{n >> 1:x}.city-phish.example"


SHARED_SPACE = ipaddress.IPv4Network("100.64.0.0/10")
"""Where the benchmark's addresses live: never allowlisted, never a real host's."""
_SPREAD = 2_654_435_761
"""Odd, so ``n * _SPREAD`` modulo a power of two is a bijection (Knuth's multiplicative hash)."""


def scattered_ipv4(n: int) -> str:
    """Address number ``n`` (``0 <= n < 2**22``) of a fixed permutation of 100.64.0.0/10:
    unique per ``n``, deterministic, and spread as a real block list's are (neighbours are
    rare), so collapsing into CIDR blocks has realistic work, unlike consecutive ones."""
    if not 0 <= n < SHARED_SPACE.num_addresses:
        raise ValueError(f"{n} is outside 0..{SHARED_SPACE.num_addresses - 1}")
    offset = n * _SPREAD % SHARED_SPACE.num_addresses
    return str(SHARED_SPACE.network_address + offset)


def scattered_ipv4s(start: int = 0) -> Callable[[], IOC]:
    """A source of fresh IPv4 IOCs (:func:`scattered_ipv4` from ``start`` on), for
    :func:`reports`' ``fresh``: a store of addresses only, for lists of one kind."""
    serial = itertools.count(start)
    return lambda: ("ipv4", scattered_ipv4(next(serial)))


def surface_variant(ioc: IOC) -> str:
    """How another city spells the same IOC: upper-case domain, ``/32`` on an address."""
    kind, value = ioc
    return f"{value}/32" if kind == "ipv4" else value.upper()


def report(
    member: TestMember,
    ioc: IOC,
    *,
    spelling: str | None = None,
    tlp: str = "green",
    recipient: str | None = None,
) -> dict[str, Any]:
    """An unsigned indicator as a city SOC writes it: ~600 bytes of signed content (the
    RFC 8785 form without the signature entry), ~800 bytes as posted once signed."""
    kind, value = ioc
    spelled = spelling or value
    n = next(_serial)
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created_by_ref": member.identity_id,
        "created": STAMP,
        "modified": STAMP,
        "name": f"{'Phishing domain' if kind == 'domain' else 'Scanning host'} {spelled}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[{'domain-name' if kind == 'domain' else 'ipv4-addr'}:value = '{spelled}']",
        "pattern_type": "stix",
        "valid_from": STAMP,
        "confidence": 60 + n % 4 * 10,
        "external_references": [{"source_name": "city-soc", "external_id": f"INC-{n:07d}"}],
    }
    marking = {"green": TLP_GREEN, "amber": TLP_AMBER, "red": TLP_RED}.get(tlp)
    if marking:
        obj["object_marking_refs"] = [marking]
    if recipient is not None:
        obj["extensions"] = {
            AUDIENCE_EXTENSION_ID: {"extension_type": "property-extension", "members": [recipient]}
        }
    return obj


def reports(
    member: TestMember,
    count: int,
    rng: random.Random,
    *,
    repeats: list[IOC],
    recipients: list[str],
    mix: tuple[tuple[str, float], ...] = TLP_MIX,
    fresh_source: Callable[[], IOC] = fresh_ioc,
) -> tuple[list[dict[str, Any]], list[IOC]]:
    """``count`` signed reports by ``member``: one per IOC of ``repeats`` (IOCs another
    member already reported, in a surface variant), the rest fresh (from
    ``fresh_source``), TLP as ``mix``; a RED report names one of ``recipients`` (identity
    ids). Returns the signed objects and the fresh IOCs (in canonical form) they
    introduced."""
    fresh = [fresh_source() for _ in range(count - len(repeats))]
    planned = [(ioc, surface_variant(ioc)) for ioc in repeats] + [(ioc, None) for ioc in fresh]
    rng.shuffle(planned)
    levels = rng.choices([t for t, _ in mix], [w for _, w in mix], k=count)
    objects = [
        report(
            member,
            ioc,
            spelling=spelling,
            tlp=level,
            recipient=rng.choice(recipients) if level == "red" else None,
        )
        for (ioc, spelling), level in zip(planned, levels, strict=True)
    ]
    return member.sign(*objects), fresh
