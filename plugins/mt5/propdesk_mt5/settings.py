"""A desk's MT5 settings: their JSON Schema and their typed form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from propdesk.tenancy.secrets import SECRET_REF, resolve_secrets

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "MetaTrader 5",
    "additionalProperties": False,
    "required": ["server", "manager_login", "password"],
    "properties": {
        "server": {
            "type": "string",
            "pattern": "^https?://[^/\\s]+/?$",
            "description": "The access server's Web API, e.g. https://mt5.example.com:443 "
            "(http:// only for a local simulator).",
        },
        "manager_login": {
            "type": "integer",
            "minimum": 1,
            "description": "The manager account the CRM logs in as.",
        },
        "password": {
            **SECRET_REF,
            "description": 'The manager\'s API password, as { env = "NAME" }.',
        },
        "server_name": {
            "type": "string",
            "minLength": 1,
            "description": "The server name traders choose in their terminal.",
        },
        "groups": {
            "type": "object",
            "additionalProperties": {"type": "string", "minLength": 1},
            "description": "The MT5 group of each phase group named in the catalogue, e.g. "
            '{ "demo\\\\two-step\\\\phase1" = "demo\\\\staging\\\\phase1" }; a phase whose '
            "group is not listed uses the catalogue's group as is.",
        },
        "server_timezone": {
            "type": "string",
            "minLength": 1,
            "description": "The trade server's time zone: an IANA zone (Europe/Athens), a "
            "fixed offset (+02:00) or ny-close. When absent it is measured against the "
            "server's clock at login, which is exact until its next daylight-saving change.",
        },
        "sessions": {
            "type": "integer",
            "minimum": 1,
            "maximum": 4,
            "default": 2,
            "description": "Manager sessions used in parallel.",
        },
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
        "verify_tls": {
            "type": ["boolean", "string"],
            "description": "Check the server's certificate (true), skip it (false), or the "
            "path of a CA bundle to check it against.",
        },
        "snapshot_heartbeat_seconds": {
            "type": "number",
            "minimum": 1,
            "description": "A balance and equity reading is handed to the engine when it "
            "changed, and at least this often (default 30) so data never looks stale.",
        },
        "close_timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
        "create_lookback_days": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "How far back a repeated account creation looks for the account "
            "an earlier attempt made (default 7 days).",
        },
    },
}


@dataclass(frozen=True)
class MT5Settings:
    server: str
    manager_login: int
    password_ref: Mapping[str, Any]
    server_name: str
    groups: Mapping[str, str]
    server_timezone: str | None
    sessions: int
    timeout: float
    verify: bool | str
    heartbeat: timedelta
    close_timeout: float
    create_lookback: timedelta

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> MT5Settings:
        server = str(settings["server"]).rstrip("/")
        return cls(
            server=server,
            manager_login=int(settings["manager_login"]),
            password_ref=settings["password"],
            server_name=str(settings.get("server_name") or server.split("//", 1)[1]),
            groups=dict(settings.get("groups") or {}),
            server_timezone=settings.get("server_timezone"),
            sessions=int(settings.get("sessions", 2)),
            timeout=float(settings.get("timeout_seconds", 10)),
            verify=settings.get("verify_tls", True),
            heartbeat=timedelta(seconds=float(settings.get("snapshot_heartbeat_seconds", 30))),
            close_timeout=float(settings.get("close_timeout_seconds", 30)),
            create_lookback=timedelta(days=float(settings.get("create_lookback_days", 7))),
        )

    def password(self) -> str:
        """The API password, read from the environment now (a rotated one is picked up)."""
        return str(resolve_secrets(self.password_ref, where="mt5 settings /password"))

    def group(self, catalogue_group: str) -> str:
        return self.groups.get(catalogue_group, catalogue_group)
