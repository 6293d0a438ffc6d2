"""Stripe's error bodies (``{"error": {"type", "code", "message", "param"}}``) as an exception
the handlers raise, and the constructors of the errors the simulator gives."""

from __future__ import annotations

from typing import Any

DOCS = "https://stripe.com/docs/error-codes"


class StripeError(Exception):
    """An error answer. ``save`` says whether an idempotency key keeps it: Stripe saves a
    result once the endpoint began executing, but not a request that failed validation."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        save: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code
        self.param, self.save, self.headers = param, save, headers or {}

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
        }
        if self.code:
            error["doc_url"] = f"{DOCS}/{self.code.replace('_', '-')}"
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        return {"error": error}


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    """A parameter failed validation (not saved under an idempotency key)."""
    return StripeError(400, message, param=param, code=code, save=False)


def missing(param: str) -> StripeError:
    return invalid(f"Missing required param: {param}.", param, "parameter_missing")


def unknown(param: str) -> StripeError:
    return invalid(
        f"Received unknown parameter: {param} (not supported by the simulator)",
        param,
        "parameter_unknown",
    )


def no_such(kind: str, ident: str, param: str | None = None) -> StripeError:
    return StripeError(
        404, f"No such {kind}: '{ident}'", code="resource_missing", param=param, save=False
    )


def conflict(message: str, code: str, param: str | None = None) -> StripeError:
    """The request is valid but the object's state refuses it (saved like any executed
    request)."""
    return StripeError(400, message, code=code, param=param)


def authentication(message: str) -> StripeError:
    return StripeError(401, message, save=False)


def rate_limited() -> StripeError:
    message = "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits."
    return StripeError(429, message, code="rate_limit", save=False)


def api_error(message: str = "An unknown error occurred (simulated).") -> StripeError:
    return StripeError(500, message, type_="api_error")


def unavailable(status: int = 503) -> StripeError:
    """A 5xx from in front of the API: the request never ran, so no key keeps it."""
    return StripeError(
        status, "The service is temporarily unavailable (simulated).", type_="api_error", save=False
    )


def unrecognized(method: str, path: str) -> StripeError:
    message = (
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/."
    )
    return StripeError(404, message, save=False)
