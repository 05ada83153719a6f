"""Runtime settings, read once from ``CITYSHIELD_*`` environment variables.

Services never import this module: they receive values as arguments, so tests and the CLI
can run them against any database or data directory.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can set. Defaults give a working embedded hub."""

    model_config = SettingsConfigDict(env_prefix="CITYSHIELD_", env_file=None, extra="ignore")

    home: Path = Field(default=Path(".cityshield"), description="Data directory.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is SQLite in the data directory."
    )
    hub_name: str = "cityshield hub"
    page_size: int = Field(default=1000, ge=1, description="Objects per page when no limit.")
    max_page_size: int = Field(default=10000, ge=1, description="Largest page a client gets.")
    max_content_length: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest POST body in bytes (413 above). A body costs the server ~8x its "
        "size in memory while it is ingested (bench.memory).",
    )
    body_timeout_seconds: float = Field(
        default=120,
        gt=0,
        description="Longest a client may take to send a whole POST body (408 after).",
    )
    body_idle_timeout_seconds: float = Field(
        default=15,
        gt=0,
        description="Longest a POST body may pause between two chunks (408 after).",
    )
    public_url: AnyHttpUrl | None = Field(
        default=None,
        description="The hub's public base URL (e.g. https://hub.example.org); discovery "
        "names the API root under it. Unset: a relative URL, never the request's Host.",
    )
    environment: str = Field(default="local", description="local, test or production.")
    allowlist_files: list[Path] = Field(
        default_factory=list,
        description="Known-benign value files added to the shipped default set (YAML).",
    )
    lifetime_days: dict[str, float | None] = Field(
        default_factory=dict,
        description='Per observable type overrides, e.g. {"ipv4-addr": 7, "file": null}.',
    )
    publish_interval_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How often the worker's publication job runs at the latest (it also "
        "starts within ~0.1 s of an ingest that queued IOCs).",
    )
    ageing_interval_seconds: float = Field(
        default=60, gt=0, description="How often the worker expires stale network IOCs."
    )
    delivery_interval_seconds: float = Field(
        default=5,
        gt=0,
        description="How often the worker's delivery job runs at the latest, and how often "
        "it checks each push target for visibility changes its cursor cannot see (a policy "
        "reload, a lifted quarantine); it starts within ~0.1 s of new objects.",
    )
    delivery_batch_size: int = Field(default=500, ge=1, description="Objects per push batch.")
    delivery_concurrency: int = Field(
        default=4, ge=1, description="Push targets one worker sends to at the same time."
    )
    delivery_timeout_seconds: float = Field(
        default=30, gt=0, description="Connect and read timeout of each request to a target."
    )
    delivery_status_timeout_seconds: float = Field(
        default=60,
        gt=0,
        description="How long a target's status resource is followed before a retry.",
    )
    delivery_max_attempts: int = Field(
        default=20,
        ge=1,
        description="Consecutive failed attempts before a push target is dead-lettered.",
    )
    delivery_backoff_seconds: float = Field(
        default=1, gt=0, description="Delay before the first retry; doubles each attempt."
    )
    delivery_backoff_max_seconds: float = Field(
        default=600, gt=0, description="Longest delay between two attempts."
    )
    delivery_secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key that encrypts push-target credentials; unset: a key file "
        "made in the data directory (delivery.key, mode 0600).",
    )

    urgent_per_hour: int = Field(
        default=100,
        ge=0,
        description="Objects one member may have treated as urgent in any hour (an admin "
        "may set another number per member: `member urgent NAME --per-hour N`). Beyond "
        "it an urgent object is still accepted, handled as any other, and its status says why.",
    )
    webhook_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="Connect, write and read timeout of each webhook request; a slow "
        "receiver holds one delivery thread for at most this long per notification.",
    )

    ui_session_idle_minutes: float = Field(
        default=30,
        gt=0,
        description="A web page session ends after this long without a request (the "
        "analyst signs in again).",
    )
    ui_session_hours: float = Field(
        default=12,
        gt=0,
        description="A web page session ends this long after sign-in, however active: "
        "about one incident shift.",
    )

    export_widest_ipv4: int = Field(
        default=16,
        ge=0,
        le=32,
        description="Exports leave out IPv4 ranges wider than this prefix length (one city's "
        "/8 on every firewall is an outage), and collapsing never makes wider ones.",
    )
    export_widest_ipv6: int = Field(
        default=32, ge=0, le=128, description="The same for IPv6 ranges (docs/exports.md)."
    )

    feeds_dir: Path = Field(
        default=Path("feeds"),
        description="Feed definitions, one YAML file per feed (docs/feeds.md).",
    )
    feed_poll_seconds: float = Field(
        default=60,
        gt=0,
        description="How often the worker re-reads the feed definitions (a new file is "
        "pulled at once then); each feed is pulled at its own interval.",
    )
    feed_concurrency: int = Field(
        default=4, ge=1, description="Feeds one worker pulls at the same time."
    )
    feed_max_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=1024,
        description="Largest list feed body the worker downloads (the pull fails above).",
    )
    feed_batch_size: int = Field(
        default=500, ge=1, description="Feed objects ingested per transaction."
    )

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("public_url")
    @classmethod
    def _plain_base_url(cls, value: AnyHttpUrl | None) -> AnyHttpUrl | None:
        """TAXII 2.1 (4.1.1): API root URLs carry no query; a fragment would be dropped."""
        if value is not None and (value.query or value.fragment or value.username):
            raise ValueError("public_url must be scheme://host[:port][/path], nothing more")
        return value

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'cityshield.db').resolve()}"


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, cached; tests call ``get_settings.cache_clear()``."""
    return Settings()
