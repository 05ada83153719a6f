"""What a feed definition (one ``feeds/*.yaml`` file) may say, checked with pydantic.

Every key is declared, so a misspelt one is an error rather than a silent default, and a
credential written into the file (``password:``, ``token:``) is refused with the way to
do it: credentials come from the environment only (``auth``), so definitions can be
committed and reviewed like code. Keys of another kind's feeds are refused too.
"""

from __future__ import annotations

import hashlib
import re
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from cityshield.feeds.values import ObservableType, observable_type
from cityshield.stix.vocabulary import TLP_ORDER

Kind = Literal["csv", "text", "taxii21", "cityshield"]
LIST_KINDS = ("csv", "text")
TAXII_KINDS = ("taxii21", "cityshield")
NAME_PATTERN = r"[a-z0-9][a-z0-9_-]{0,62}"
ENV_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "text": ("type",),
    "csv": ("columns", "value_column", "type_column", "types", "delimiter", "header"),
    "taxii21": ("collection", "page_size", "member"),
    "cityshield": ("collection", "page_size"),
}
_LIST_KEYS = ("comment", "refresh")
_SPECIFIC = {key for keys in _KIND_KEYS.values() for key in keys} | set(_LIST_KEYS)


def seconds(value: Any) -> Any:
    """``30s``, ``15m``, ``1h``, ``1d`` or a number of seconds -> seconds."""
    if isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a duration: write e.g. 30s, 15m, 1h or 1d")
        return float(match.group(1)) * _UNITS[match.group(2)]
    return value


def tlp_level(value: Any) -> Any:
    """A TLP level as the policy files spell them (``white`` is ``clear``)."""
    if isinstance(value, str):
        level = value.strip().lower().removeprefix("tlp:")
        return "clear" if level == "white" else level
    return value


Duration = Annotated[float, BeforeValidator(seconds), Field(gt=0)]
Level = Annotated[
    Literal["clear", "green", "amber", "amber+strict", "red"], BeforeValidator(tlp_level)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Auth(Strict):
    """How to authenticate to the feed: names of environment variables, never secrets."""

    type: Literal["basic", "bearer", "header"]
    user_env: str | None = Field(default=None, pattern=ENV_PATTERN)
    password_env: str | None = Field(default=None, pattern=ENV_PATTERN)
    token_env: str | None = Field(default=None, pattern=ENV_PATTERN)
    header: str | None = Field(default=None, pattern=r"[A-Za-z0-9-]{1,100}")

    @model_validator(mode="after")
    def _complete(self) -> Auth:
        needed = {
            "basic": ("user_env", "password_env"),
            "bearer": ("token_env",),
            "header": ("header", "token_env"),
        }[self.type]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.type} auth needs {' and '.join(missing)}")
        return self


class Attribution(Strict):
    """Who publishes the feed: its STIX identity, which the hub publishes (hub-signed)."""

    name: str = Field(min_length=1, max_length=250)
    identity_class: Literal["individual", "group", "system", "organization", "class", "unknown"] = (
        "organization"
    )
    description: str | None = Field(default=None, max_length=2000)
    contact_information: str | None = Field(default=None, max_length=500)


class FeedDefinition(Strict):
    """One feed. ``kind`` decides which other keys apply (``_KIND_KEYS``)."""

    name: str = Field(pattern=NAME_PATTERN)
    kind: Kind
    url: str = Field(pattern=r"https?://\S+", max_length=2000)
    interval: Duration
    tlp: Level
    confidence: int = Field(ge=0, le=100)
    enabled: bool = True
    timeout: Duration = 60.0
    groups: list[Annotated[str, Field(pattern=r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}")]] = []
    indicator_types: list[Annotated[str, Field(pattern=r"[a-z0-9-]{1,100}")]] = Field(
        default=["malicious-activity"], min_length=1
    )
    attribution: Attribution | None = None
    auth: Auth | None = None
    # list feeds
    comment: str | None = "#"
    refresh: Duration = 7 * 86400.0
    type: str | None = None
    columns: dict[str, Annotated[int, Field(ge=0)]] | None = None
    value_column: int | None = Field(default=None, ge=0)
    type_column: int | None = Field(default=None, ge=0)
    types: dict[str, str] | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header: bool = False
    # TAXII feeds
    collection: str | None = Field(default=None, min_length=1, max_length=300)
    page_size: int | None = Field(default=None, ge=1, le=10000)
    member: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str | None) -> str | None:
        if value is not None:
            observable_type(value)
        return value

    @field_validator("columns", "types")
    @classmethod
    def _observable_keys(cls, value: dict[str, Any] | None, info: Any) -> dict[str, Any] | None:
        for name in (value or {}) if info.field_name == "columns" else (value or {}).values():
            observable_type(name)
        return value

    @model_validator(mode="after")
    def _kind_keys(self) -> FeedDefinition:
        allowed = set(_KIND_KEYS[self.kind])
        if self.kind in LIST_KINDS:
            allowed |= set(_LIST_KEYS)
        stray = sorted((self.model_fields_set & _SPECIFIC) - allowed)
        if stray:
            raise ValueError(f"{', '.join(stray)}: not a key of {self.kind} feeds")
        if self.kind == "text" and self.type is None:
            raise ValueError("text feeds need type (the observable type of every line)")
        if self.kind == "csv":
            typed = (self.value_column, self.type_column, self.types)
            if self.columns is None and None in typed:
                raise ValueError(
                    "csv feeds need columns (observable type -> column), or value_column, "
                    "type_column and types (type label -> observable type)"
                )
        if self.kind == "taxii21" and self.collection is None:
            raise ValueError("taxii21 feeds need collection (the collection's id or alias)")
        return self

    @property
    def principal(self) -> str:
        """The name its principal has among the members (``members.service.FEED_PREFIX``)."""
        return f"feed.{self.name}"

    def observable_columns(self) -> list[tuple[ObservableType, int]]:
        return [(observable_type(t), column) for t, column in (self.columns or {}).items()]

    def label_types(self) -> dict[str, ObservableType]:
        return {label: observable_type(t) for label, t in (self.types or {}).items()}

    def content_digest(self) -> str:
        """Of what goes into every object of the feed: when it changes, what the feed
        vouches for is republished under the new terms."""
        facts = [self.tlp, self.confidence, self.indicator_types, self.name, self.url]
        return hashlib.sha256(orjson.dumps(facts)).hexdigest()[:32]

    def strictest(self, level: str | None) -> str:
        """The stricter of an upstream object's own TLP level and the feed's."""
        levels = [self.tlp, *([level] if level in TLP_ORDER else [])]
        return max(levels, key=TLP_ORDER.index)
