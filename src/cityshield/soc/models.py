"""The shapes of the analyst API (``/api/v1``): requests and responses, no logic.

Times are STIX timestamps (UTC, ``...Z``). An indicator is named by its ``ref``: the hex
of its canonical key's digest, stable for the life of the IOC and the same for every
member (``indicator_id``, the id of the network indicator the caller reads, changes when
the caller sees the IOC revoked and reported again).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlmodel import Field, SQLModel

Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]


class CorroborationPublic(SQLModel):
    """Who confirmed an IOC, computed from only the reports the caller may see: the same
    figures as the caller's own network indicator."""

    state: str = Field(description="active, expired or revoked")
    members: int = Field(description="distinct members among the counted reports")
    reports: int
    sightings: int
    confidence: int = Field(description="noisy-OR over members (docs/dedup.md)")
    first_seen: str
    last_seen: str
    expires: str | None
    tlp: str | None = Field(description="the most restrictive level among counted reports")
    indicator_types: list[str]
    urgent: bool


class IndicatorSummary(SQLModel):
    ref: str = Field(description="32 hex digits: the IOC's name in this API")
    key: str = Field(description="canonical key, e.g. ipv4-addr:value=198.51.100.7")
    observable_type: str
    value: str | None = Field(description="normalised value; null for compound patterns")
    pattern: str
    indicator_id: str | None = Field(
        description="the network indicator you read over TAXII; null until first published"
    )
    benign_reason: str | None = Field(description="why the value is known-benign, if it is")
    corroboration: CorroborationPublic
    contributors: list[str] = Field(
        description="members named among the counted reports; reports the hub signed on a "
        "member's behalf (anonymous ones, sightings reported here) name nobody"
    )


class SearchPage(SQLModel):
    results: list[IndicatorSummary]
    total: int = Field(description="indicators matching the filters, over every page")
    next: str | None = Field(description="opaque cursor of the next page; null on the last")


class LookupRequest(SQLModel):
    values: list[str] = Field(max_length=10_000, description="up to 10,000 values, any spelling")
    type: str | None = Field(default=None, description="read every value as this type")


class LookupAnswer(SQLModel):
    input: str
    observable_type: str | None
    key: str | None = Field(description="the canonical key looked up (the first if several)")
    known: bool
    problem: str | None = Field(description="why the value could not be read")
    indicator: IndicatorSummary | None


class LookupResult(SQLModel):
    answers: list[LookupAnswer] = Field(description="one per value, in the order given")
    known: int
    unknown: int


class SignaturePublic(SQLModel):
    kid: str | None
    signer: Literal["member", "hub", "unknown"] = Field(
        description="hub: signed by the hub on the member's behalf"
    )
    status: str = Field(description="valid, key-revoked, key-expired or unknown-key")


class VersionPublic(SQLModel):
    version: str
    date_added: str
    revoked: bool
    object: dict[str, Any] = Field(description="the object as stored and signed")


class ContributionPublic(SQLModel):
    object_id: str
    kind: Literal["indicator", "sighting"]
    member: str | None = Field(description="null: the hub signed it on a member's behalf")
    yours: bool
    tlp: str
    confidence: int | None
    first_seen: str
    last_seen: str
    valid_until: str | None
    revoked: bool
    signature: SignaturePublic
    versions: list[VersionPublic] = Field(description="every version you may see, oldest first")


class DeliveryItem(SQLModel):
    member: str
    kind: str = Field(description="taxii (push) or webhook")
    object_id: str
    version: str
    status: str
    delivered: str
    message: str | None


class TimelineEvent(SQLModel):
    at: str
    event: str = Field(
        description="reported, revised, revoked, sighted, published, updated, delivered, rejected"
    )
    object_id: str
    member: str | None


class IndicatorDetail(SQLModel):
    indicator: IndicatorSummary
    network_indicator: dict[str, Any] | None = Field(
        description="the latest version of your network indicator, as TAXII serves it"
    )
    reports: list[ContributionPublic]
    sightings: list[ContributionPublic]
    deliveries: list[DeliveryItem] = Field(description="yours; every member's for admins")
    timeline: list[TimelineEvent]


class SightingRequest(SQLModel):
    count: int | None = Field(default=None, ge=0, le=999_999_999)
    first_seen: str | None = Field(default=None, description="default: now")
    last_seen: str | None = Field(default=None, description="default: first_seen")
    tlp: Tlp | None = Field(default=None, description="unmarked: the policy's default level")
    confidence: int | None = Field(default=None, ge=0, le=100)
    description: str | None = Field(default=None, max_length=2000)


class SightingReceipt(SQLModel):
    id: str
    sighting_of_ref: str
    created: str


class RevocationRequest(SQLModel):
    object: dict[str, Any] | None = Field(
        default=None,
        description="the revoked version, signed with your key (from GET .../revocation); "
        "not needed for reports the hub signed on your behalf",
    )


class RevocationResult(SQLModel):
    id: str
    version: str
    signed_by: Literal["member", "hub"]


class MemberCount(SQLModel):
    member: str | None = Field(description="null: reports the hub signed on a member's behalf")
    reports: int
    sightings: int


class TypeCount(SQLModel):
    observable_type: str
    reports: int
    sightings: int


class DayCount(SQLModel):
    day: str = Field(description="YYYY-MM-DD (UTC)")
    reports: int
    sightings: int


class StatsPublic(SQLModel):
    since: str
    until: str
    total: int
    by_member: list[MemberCount]
    by_type: list[TypeCount]
    by_day: list[DayCount] = Field(description="every day of the period, zeros included")


class Health(SQLModel):
    status: Literal["ok"]


class Readiness(SQLModel):
    status: Literal["ready", "not ready"]
    database: bool
    revision: str | None
    head: str | None
