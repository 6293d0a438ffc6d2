"""Plugin settings keep secrets as environment references; plugins resolve them at use."""

from __future__ import annotations

import pytest

from propdesk.errors import ConfigurationError
from propdesk.tenancy.context import TenantContext
from propdesk.tenancy.secrets import resolve_secrets

DESK = TenantContext(
    "secret_desk",
    plugins={
        "mt5": {
            "server": "mt5.example:443",
            "password": {"env": "DESK_MT5_PASSWORD"},
            "backups": [{"token": {"env": "DESK_BACKUP_TOKEN"}}],
        }
    },
)


def test_references_are_replaced_by_the_environment_at_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESK_MT5_PASSWORD", "s3cret")
    monkeypatch.setenv("DESK_BACKUP_TOKEN", "t0ken")
    resolved = resolve_secrets(DESK.settings_for("mt5"))
    assert resolved == {
        "server": "mt5.example:443",
        "password": "s3cret",
        "backups": [{"token": "t0ken"}],
    }
    assert DESK.settings_for("mt5")["password"] == {"env": "DESK_MT5_PASSWORD"}, "stored as a ref"


def test_a_missing_variable_names_the_setting_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DESK_MT5_PASSWORD", "s3cret")
    monkeypatch.delenv("DESK_BACKUP_TOKEN", raising=False)
    with pytest.raises(
        ConfigurationError,
        match=r"mt5/backups/0/token: environment variable "
        r"DESK_BACKUP_TOKEN is not set",
    ):
        resolve_secrets(DESK.settings_for("mt5"), where="mt5")
