"""Who is making a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Principal:
    """A signed-in staff user. ``token_tenant`` is set when an API token is scoped to one desk."""

    user_id: uuid.UUID
    email: str
    via: Literal["session", "token"]
    token_tenant: str | None = None

    @property
    def subject(self) -> str:
        """The casbin subject for this user."""
        return f"user:{self.user_id}"

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return f"user:{self.user_id}"
