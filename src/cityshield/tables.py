"""Every table of the hub, in one metadata: what alembic migrates and tests create."""

from __future__ import annotations

from sqlmodel import SQLModel

from cityshield.dedup.models import Contribution, NetworkIOC, NetworkView, PendingIOC, ViewPending
from cityshield.delivery.models import DeliveryReceipt, DeliveryTarget
from cityshield.feeds.models import Feed, FeedItem
from cityshield.policy.models import Audience
from cityshield.signing.models import SigningKey
from cityshield.store.models import Collection, HubSetting, Member, MemberGroup, Status, StixObject
from cityshield.web.models import WebSession
from cityshield.worker.models import JobRow

metadata = SQLModel.metadata
TABLES = (
    Audience,
    Collection,
    Contribution,
    DeliveryReceipt,
    DeliveryTarget,
    Feed,
    FeedItem,
    HubSetting,
    JobRow,
    Member,
    MemberGroup,
    NetworkIOC,
    NetworkView,
    PendingIOC,
    ViewPending,
    SigningKey,
    Status,
    StixObject,
    WebSession,
)
