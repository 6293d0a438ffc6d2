"""The client's typed results, read from Sumsub's JSON leniently (fields Sumsub leaves out stay
``None``); each keeps the JSON it was read from in ``raw``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _labels(result: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(label) for label in result.get("rejectLabels") or ())


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Applicant:
    """An applicant as ``/resources/applicants/.../one`` shows it."""

    id: str
    external_user_id: str | None
    level_name: str | None
    review_status: str | None
    #: ``GREEN`` or ``RED`` once a review completed, else ``None``.
    review_answer: str | None
    #: ``RETRY`` or ``FINAL`` for a ``RED`` answer.
    reject_type: str | None
    reject_labels: tuple[str, ...]
    moderation_comment: str | None
    inspection_id: str | None = None
    attempt_cnt: int | None = None
    created_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Applicant:
        review = _dict(data.get("review"))
        result = _dict(review.get("reviewResult"))
        attempts = review.get("attemptCnt")
        return cls(
            id=str(data["id"]),
            external_user_id=_str(data.get("externalUserId")),
            # Sumsub reports the level inside ``review``; older payloads had it at the top.
            level_name=_str(review.get("levelName") or data.get("levelName")),
            review_status=_str(review.get("reviewStatus")),
            review_answer=_str(result.get("reviewAnswer")),
            reject_type=_str(result.get("reviewRejectType")),
            reject_labels=_labels(result),
            moderation_comment=_str(result.get("moderationComment")),
            inspection_id=_str(data.get("inspectionId")),
            attempt_cnt=int(attempts) if attempts is not None else None,
            created_at=_str(data.get("createdAt")),
            raw=data,
        )


@dataclass(frozen=True)
class ApplicantStatus:
    """The review state of ``/resources/applicants/{id}/status``."""

    review_status: str | None
    review_answer: str | None
    reject_type: str | None
    reject_labels: tuple[str, ...]
    moderation_comment: str | None
    #: Sumsub's internal note for the firm: never show it to the applicant.
    client_comment: str | None
    level_name: str | None
    review_id: str | None
    attempt_cnt: int | None
    create_date: str | None
    review_date: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApplicantStatus:
        result = _dict(data.get("reviewResult"))
        attempts = data.get("attemptCnt")
        return cls(
            review_status=_str(data.get("reviewStatus")),
            review_answer=_str(result.get("reviewAnswer")),
            reject_type=_str(result.get("reviewRejectType")),
            reject_labels=_labels(result),
            moderation_comment=_str(result.get("moderationComment")),
            client_comment=_str(result.get("clientComment")),
            level_name=_str(data.get("levelName")),
            review_id=_str(data.get("reviewId")),
            attempt_cnt=int(attempts) if attempts is not None else None,
            create_date=_str(data.get("createDate")),
            review_date=_str(data.get("reviewDate")),
            raw=data,
        )


@dataclass(frozen=True)
class AccessToken:
    """A WebSDK access token for one ``userId`` (the firm's external user id)."""

    token: str
    user_id: str
    #: When it stops working: the request time plus ``ttlInSecs`` (Sumsub does not say).
    expires: datetime
