"""``SumsubClient``: an async client of the Sumsub API calls a CRM needs (applicants, review
status, WebSDK access tokens, requesting a check), every request signed by ``SumsubAuth``."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from propdesk_kyc_sumsub.errors import (
    Conflict,
    RateLimited,
    SumsubError,
    Unavailable,
    error_for,
)
from propdesk_kyc_sumsub.models import AccessToken, Applicant, ApplicantStatus
from propdesk_kyc_sumsub.signing import SumsubAuth

__all__ = ["AccessToken", "Applicant", "ApplicantStatus", "SumsubClient"]

DEFAULT_BASE_URL = "https://api.sumsub.com"
T = TypeVar("T")


def _segment(value: str) -> str:
    """One path segment, percent-encoded (``/``, ``;`` and ``=`` included: they would change
    which resource the path names)."""
    return quote(value, safe="")


def _json_body(data: dict[str, Any]) -> bytes:
    # We serialise ourselves so the bytes signed are the bytes sent, whatever httpx would do.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _read(parse: Callable[[dict[str, Any]], T], data: dict[str, Any]) -> T:
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise Unavailable(200, f"unexpected answer: {type(exc).__name__} {exc}") from None


class SumsubClient:
    """One Sumsub app token. Idempotent calls (reads, creating an applicant, access tokens) are
    retried on transport errors, 5xx and 429, ``retries`` times with exponential backoff (or
    ``Retry-After``, when it is no longer than ``max_backoff``); ``request_check`` is not."""

    def __init__(
        self,
        base_url: str,
        app_token: str,
        secret_key: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        clock: Callable[[], float] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self._clock = clock or time.time
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=SumsubAuth(app_token, secret_key, clock=self._clock),
            timeout=timeout,
            headers={"Accept": "application/json"},
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SumsubClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # -- transport -------------------------------------------------------------------------

    def _delay(self, attempt: int, error: SumsubError) -> float | None:
        """How long to wait before retry ``attempt`` (1-based), or ``None`` to give up."""
        if attempt > self.retries:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_backoff else None
        base = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return base * (0.8 + 0.4 * random.random())  # jitter, so clients do not march in step

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool,
    ) -> Any:
        content = _json_body(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    method, path, params=params, content=content, headers=headers
                )
            except httpx.TransportError as exc:
                error: SumsubError = Unavailable(0, f"{type(exc).__name__}: {exc}".rstrip(": "))
            else:
                if response.is_success:
                    try:
                        return json.loads(response.content)
                    except ValueError:
                        error = Unavailable(response.status_code, "the answer was not JSON")
                else:
                    error = error_for(response)
            if not idempotent or not isinstance(error, Unavailable | RateLimited):
                raise error
            delay = self._delay(attempt, error)
            if delay is None:
                raise error
            await asyncio.sleep(delay)

    async def _applicant(self, path: str) -> Applicant:
        return _read(Applicant.from_json, await self._object("GET", path, idempotent=True))

    async def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = await self._call(method, path, **kwargs)
        if not isinstance(data, dict):
            raise Unavailable(200, f"expected a JSON object from {path}")
        return data

    # -- applicants ------------------------------------------------------------------------

    async def create_applicant(
        self,
        external_user_id: str,
        level_name: str,
        *,
        email: str | None = None,
        phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        dob: date | str | None = None,
        country: str | None = None,
    ) -> Applicant:
        """Creates the applicant, or returns the one that already has ``external_user_id``
        (Sumsub's 409), so calling it again is safe. ``country`` is ISO 3166 alpha-3."""
        fixed: dict[str, Any] = {"firstName": first_name, "lastName": last_name}
        fixed |= {"dob": dob.isoformat() if isinstance(dob, date) else dob, "country": country}
        body: dict[str, Any] = {"externalUserId": external_user_id, "type": "individual"}
        body |= {k: v for k, v in {"email": email, "phone": phone}.items() if v is not None}
        if any(v is not None for v in fixed.values()):
            body["fixedInfo"] = {k: v for k, v in fixed.items() if v is not None}
        try:
            data = await self._object(
                "POST",
                "/resources/applicants",
                params={"levelName": level_name},
                body=body,
                # A retry after a lost answer meets the 409 below, which finds what we made.
                idempotent=True,
            )
        except Conflict:
            return await self.applicant_by_external_id(external_user_id)
        return _read(Applicant.from_json, data)

    async def applicant(self, applicant_id: str) -> Applicant:
        return await self._applicant(f"/resources/applicants/{_segment(applicant_id)}/one")

    async def applicant_by_external_id(self, external_user_id: str) -> Applicant:
        ref = f"-;externalUserId={_segment(external_user_id)}"
        return await self._applicant(f"/resources/applicants/{ref}/one")

    async def status(self, applicant_id: str) -> ApplicantStatus:
        path = f"/resources/applicants/{_segment(applicant_id)}/status"
        return _read(ApplicantStatus.from_json, await self._object("GET", path, idempotent=True))

    async def request_check(self, applicant_id: str, reason: str | None = None) -> None:
        """Sends the applicant to review (``pending``). Not retried: a lost answer may have
        moved it already, so look at ``status`` before calling again."""
        path = f"/resources/applicants/{_segment(applicant_id)}/status/pending"
        params = {"reason": reason} if reason else None
        data = await self._object("POST", path, params=params, idempotent=False)
        if data.get("ok") != 1:
            raise Unavailable(200, f"unexpected answer to a check request: {data!r}")

    # -- WebSDK access tokens --------------------------------------------------------------

    async def sdk_access_token(
        self,
        external_user_id: str,
        level_name: str,
        ttl_seconds: int = 600,
        email: str | None = None,
        phone: str | None = None,
    ) -> AccessToken:
        """A WebSDK token (``POST /resources/accessTokens/sdk``) for the firm's user id."""
        body: dict[str, Any] = {
            "userId": external_user_id,
            "levelName": level_name,
            "ttlInSecs": ttl_seconds,
        }
        identifiers = {k: v for k, v in {"email": email, "phone": phone}.items() if v}
        if identifiers:
            body["applicantIdentifiers"] = identifiers
        return await self._token("/resources/accessTokens/sdk", None, body, ttl_seconds)

    async def legacy_access_token(
        self, external_user_id: str, level_name: str, ttl_seconds: int = 600
    ) -> AccessToken:
        """The older form, ``POST /resources/accessTokens?userId=&levelName=&ttlInSecs=``."""
        params = {"userId": external_user_id, "levelName": level_name, "ttlInSecs": ttl_seconds}
        return await self._token("/resources/accessTokens", params, None, ttl_seconds)

    async def _token(
        self, path: str, params: dict[str, Any] | None, body: dict[str, Any] | None, ttl: int
    ) -> AccessToken:
        asked = datetime.fromtimestamp(self._clock(), UTC)
        data = await self._object("POST", path, params=params, body=body, idempotent=True)
        if not isinstance(data.get("token"), str):
            raise Unavailable(200, f"no token in the answer of {path}")
        return AccessToken(
            token=data["token"],
            user_id=str(data.get("userId", "")),
            expires=asked + timedelta(seconds=ttl),
        )
