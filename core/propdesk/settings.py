"""Typed settings read from ``PROPDESK_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything an operator can configure. Unset URLs mean "start embedded services"."""

    model_config = SettingsConfigDict(env_prefix="PROPDESK_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+asyncpg://user@host:5432/db. "
        "Unset: an embedded PostgreSQL in the data folder.",
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0. Unset: an embedded Redis."
    )
    data_dir: Path = Field(default=Path(".propdesk"), description="Embedded services' data.")
    tenants_dir: Path = Field(default=Path("tenants"), description="Tenant manifests.")
    app_role: str = Field(
        default="propdesk_app",
        description="Database role the application runs as (no UPDATE/DELETE on audit rows).",
    )
    disabled_plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated plugin names to block."
    )
    trace_plugins: bool = Field(default=False, description="Log every hook call.")
    load_entrypoints: bool = Field(
        default=True, description="Load plugins from the 'propdesk.plugins' entry points."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_format: Literal["json", "console"] = "json"
    log_level: str = "INFO"
    db_pool_size: int = 10
    session_hours: int = Field(default=12, description="Browser session lifetime.")
    queue_name: str = Field(default="propdesk:queue", description="arq queue for core jobs.")
    engine: bool = Field(
        default=True, description="Run the real-time engine in `propdesk worker` processes."
    )
    engine_shards: int = Field(
        default=1, ge=1, description="Engine shards (accounts by id); a worker runs one at a time."
    )
    outbox_sweep_seconds: int = Field(
        default=5, description="How often the worker re-enqueues undispatched outbox events."
    )
    payout_sweep_seconds: int = Field(
        default=5,
        ge=1,
        le=59,
        description="How often the worker moves on payouts a crashed or lost job left behind.",
    )

    @field_validator("disabled_plugins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()`` after env edits)."""
    return Settings()
