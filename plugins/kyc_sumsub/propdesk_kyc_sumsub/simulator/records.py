"""The simulator's records (applicants, access tokens) and their JSON as Sumsub shows them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

REVIEW_STATUSES = (
    "init",
    "pending",
    "prechecked",
    "queued",
    "completed",
    "onHold",
    "awaitingService",
    "awaitingUser",
)


class SimError(Exception):
    """An error answer of the wire API, in Sumsub's shape."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        error_code: int | None = None,
        error_name: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(description)
        self.status, self.description = status, description
        self.error_code, self.error_name = error_code, error_name
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "description": self.description,
            "code": self.status,
            "correlationId": correlation_id(),
        }
        if self.error_code is not None:
            data |= {"errorCode": self.error_code, "errorName": self.error_name}
        return data


def correlation_id() -> str:
    return f"req-{uuid.uuid4()}"


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def fmt_seconds(seconds: float) -> str:
    """``createdAt`` of an applicant: ``2024-05-14 16:00:25``."""
    return utc(seconds).strftime("%Y-%m-%d %H:%M:%S")


def fmt_review_date(seconds: float) -> str:
    """``createDate``/``reviewDate`` of a review: ``2024-05-14 16:00:25+0000``."""
    return utc(seconds).strftime("%Y-%m-%d %H:%M:%S+0000")


def fmt_ms(seconds: float) -> str:
    """``createdAtMs`` of a webhook: ``2024-05-14 16:00:25.032``."""
    return utc(seconds).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


@dataclass
class ApplicantRecord:
    id: str
    inspection_id: str
    external_user_id: str
    level_name: str
    created_at: float
    review_id: str
    attempt_id: str
    email: str | None = None
    phone: str | None = None
    fixed_info: dict[str, Any] = field(default_factory=dict)
    applicant_type: str = "individual"
    #: Documents were submitted (WebSDK, or the control API): a check may be requested.
    docs_submitted: bool = False
    attempt_cnt: int = 1
    review_status: str = "init"
    review_created: float = 0.0
    review_date: float | None = None
    answer: str | None = None
    reject_type: str | None = None
    labels: list[str] = field(default_factory=list)
    moderation_comment: str | None = None
    client_comment: str | None = None

    def review_result(self) -> dict[str, Any] | None:
        if self.answer is None:
            return None
        result: dict[str, Any] = {"reviewAnswer": self.answer}
        if self.answer == "RED":
            result |= {"rejectLabels": list(self.labels), "reviewRejectType": self.reject_type}
        if self.moderation_comment is not None:
            result["moderationComment"] = self.moderation_comment
        if self.client_comment is not None:
            result["clientComment"] = self.client_comment
        return result

    def status_json(self) -> dict[str, Any]:
        """``GET /resources/applicants/{id}/status``."""
        data: dict[str, Any] = {
            "reviewId": self.review_id,
            "attemptId": self.attempt_id,
            "attemptCnt": self.attempt_cnt,
            "levelName": self.level_name,
            "createDate": fmt_review_date(self.review_created),
            "reviewStatus": self.review_status,
            "priority": 0,
        }
        if self.review_date is not None:
            data["reviewDate"] = fmt_review_date(self.review_date)
        result = self.review_result()
        if result is not None:
            data["reviewResult"] = result
        return data

    def applicant_json(self, client_id: str) -> dict[str, Any]:
        """``GET /resources/applicants/{id}/one`` (and the creation's answer)."""
        data: dict[str, Any] = {
            "id": self.id,
            "createdAt": fmt_seconds(self.created_at),
            "clientId": client_id,
            "inspectionId": self.inspection_id,
            "externalUserId": self.external_user_id,
            "fixedInfo": dict(self.fixed_info),
        }
        data |= {k: v for k, v in (("email", self.email), ("phone", self.phone)) if v}
        data["review"] = self.status_json()
        data["type"] = self.applicant_type
        return data

    def webhook_payload(
        self, kind: str, *, client_id: str, sandbox: bool, now: float
    ) -> dict[str, Any]:
        """A webhook's body: ids and review state only, never the applicant's personal data."""
        data: dict[str, Any] = {
            "applicantId": self.id,
            "inspectionId": self.inspection_id,
            "correlationId": correlation_id(),
            "externalUserId": self.external_user_id,
            "levelName": self.level_name,
            "type": kind,
            "sandboxMode": sandbox,
            "reviewStatus": self.review_status,
            "applicantType": self.applicant_type,
        }
        result = self.review_result()
        if kind == "applicantReviewed" and result is not None:
            data["reviewResult"] = result
        data |= {"createdAtMs": fmt_ms(now), "clientId": client_id}
        return data


@dataclass
class TokenRecord:
    token: str
    user_id: str
    level_name: str
    expires: float
    email: str | None = None
    phone: str | None = None
    #: Its ``/websdk`` page was opened at least once.
    used: bool = False
