"""The error hierarchy. HTTP maps each class to an RFC 9457 problem; the CLI prints it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with an input: where (a field name or JSON pointer) and what."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field or '/'}: {self.message}"


class PropdeskError(Exception):
    """Base class. ``status`` and ``title`` feed the problem-details response."""

    status = 500
    title = "Internal error"
    slug = "internal-error"

    def __init__(self, detail: str, *, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []


class InvalidInput(PropdeskError):
    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class NotFound(PropdeskError):
    status = 404
    title = "Not found"
    slug = "not-found"


class Conflict(PropdeskError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class Unauthenticated(PropdeskError):
    status = 401
    title = "Authentication required"
    slug = "unauthenticated"


class Forbidden(PropdeskError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class TenantUnavailable(PropdeskError):
    status = 403
    title = "Desk unavailable"
    slug = "tenant-unavailable"


class ConfigurationError(PropdeskError):
    """Raised at startup: the process refuses to run with this configuration."""

    title = "Configuration error"
    slug = "configuration-error"


class ManifestError(InvalidInput):
    """A tenant manifest is wrong. ``path`` names the file, problems the fields."""

    title = "Invalid tenant manifest"
    slug = "invalid-manifest"

    def __init__(self, path: str, problems: list[FieldProblem]) -> None:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"invalid tenant manifest {path} ({count}):", problems=problems)
        self.path = path

    def __str__(self) -> str:
        return "\n".join([self.detail, *(f"  {p}" for p in self.problems)])


class ProviderError(PropdeskError):
    """An outside provider (a PSP, a payout rail) did not do what was asked; ``provider_code``
    keeps the provider's own code for support and audit."""

    status = 502

    def __init__(self, detail: str, *, provider_code: str | None = None) -> None:
        super().__init__(detail)
        self.provider_code = provider_code


class WebhookRejected(PropdeskError):
    """A provider's webhook whose signature is missing, wrong or too old, or whose body is
    unreadable: nothing is recorded, and the provider retries (a real event then verifies)."""

    status = 400
    title = "Webhook rejected"
    slug = "webhook-rejected"
