"""Typed settings read from ``PROPDESK_*`` environment variables."""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
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

    reporting_currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="The currency of the leadership view's consolidated figures (ISO 4217).",
    )
    conversion_rates: Annotated[dict[str, Decimal], NoDecode] = Field(
        default_factory=dict,
        description="Reporting-currency units per unit of each desk currency: JSON "
        '(\'{"EUR": "1.08"}\') or "EUR=1.08,GBP=1.27".',
    )

    @field_validator("disabled_plugins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("conversion_rates", mode="before")
    @classmethod
    def _read_rates(cls, value: object) -> object:
        return parse_rates(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_rates(self) -> Settings:
        for currency, rate in self.conversion_rates.items():
            where = f"PROPDESK_CONVERSION_RATES: {currency}"
            if not CURRENCY.fullmatch(currency):
                raise ValueError(f"{where} is not a three-letter ISO 4217 code in capitals")
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"{where} converts at {rate}: a rate is a positive number")
            if currency == self.reporting_currency and rate != 1:
                raise ValueError(f"{where} is the reporting currency: its rate is 1, not {rate}")
        return self


CURRENCY = re.compile(r"[A-Z]{3}")


def parse_rates(text: str) -> dict[str, Decimal]:
    """``{"EUR": "1.08"}`` or ``EUR=1.08,GBP=1.27`` as Decimals (JSON numbers never become
    floats on the way)."""
    text = text.strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            pairs = json.loads(text, parse_float=Decimal, parse_int=Decimal)
        except json.JSONDecodeError as exc:
            raise ValueError(f"PROPDESK_CONVERSION_RATES is not valid JSON: {exc}") from exc
        items = [(str(k), str(v)) for k, v in pairs.items()]
    else:
        items = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            currency, equals, rate = part.partition("=")
            if not equals:
                raise ValueError(f"PROPDESK_CONVERSION_RATES: {part!r} is not CODE=RATE")
            items.append((currency.strip(), rate.strip()))
    rates: dict[str, Decimal] = {}
    for currency, rate in items:
        try:
            rates[currency] = Decimal(rate)
        except InvalidOperation:
            raise ValueError(
                f"PROPDESK_CONVERSION_RATES: {currency} converts at {rate!r}, not a number"
            ) from None
    return rates


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()`` after env edits)."""
    return Settings()
