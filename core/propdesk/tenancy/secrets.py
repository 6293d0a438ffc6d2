"""Secrets in plugin settings are references to environment variables, never values."""

from __future__ import annotations

import os
from typing import Any

from propdesk.errors import ConfigurationError

#: Use in a plugin's settings schema for any secret: ``{"password": SECRET_REF}``.
SECRET_REF: dict[str, Any] = {
    "type": "object",
    "description": 'A secret, given as a reference to an environment variable: { env = "NAME" }',
    "properties": {"env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
    "required": ["env"],
    "additionalProperties": False,
}


def is_secret_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"env"} and isinstance(value["env"], str)


def resolve_secrets(settings: Any, *, where: str = "settings") -> Any:
    """A copy of ``settings`` with every ``{"env": NAME}`` replaced by that variable's value."""
    if is_secret_ref(settings):
        name = settings["env"]
        if name not in os.environ:
            raise ConfigurationError(f"{where}: environment variable {name} is not set")
        return os.environ[name]
    if isinstance(settings, dict):
        return {k: resolve_secrets(v, where=f"{where}/{k}") for k, v in settings.items()}
    if isinstance(settings, list):
        return [resolve_secrets(v, where=f"{where}/{i}") for i, v in enumerate(settings)]
    return settings
