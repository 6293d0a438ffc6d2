"""The simulator's state and its rules: applicants, access tokens, the review lifecycle, the
clock, request log, rate limits and injected faults. Everything is behind ``lock``."""

from __future__ import annotations

import random
import string
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from propdesk_kyc_sumsub.simulator.config import SimulatorConfig
from propdesk_kyc_sumsub.simulator.records import (
    ApplicantRecord,
    SimError,
    TokenRecord,
)
from propdesk_kyc_sumsub.simulator.sender import WebhookSender


def final_reject() -> SimError:
    return SimError(
        409,
        "Applicant has a final rejection: no new data is accepted",
        error_code=1009,
        error_name="applicant-with-final-reject",
    )


@dataclass
class Fault:
    """The next ``count`` wire requests under ``path`` answer ``status`` (or, with ``action``
    ``drop``, get the connection closed without an answer)."""

    path: str
    action: str = "status"
    status: int = 503
    count: int = 1
    retry_after: float | None = None
    description: str = "Service temporarily unavailable"

    def view(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Simulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.lock = threading.RLock()
        self.rng = random.Random(self.config.seed)
        self.sender = WebhookSender(self)
        self.reset()

    def reset(self) -> None:
        """Back to the configured start: no applicants, tokens, requests or faults; the
        configured webhooks only; the clock on real time."""
        with self.lock:
            self.offset = 0.0
            self.applicants: dict[str, ApplicantRecord] = {}
            self.by_external: dict[str, str] = {}
            self.tokens: dict[str, TokenRecord] = {}
            self.requests: list[dict[str, Any]] = []
            self.events: list[dict[str, Any]] = []
            self.faults: list[Fault] = []
            self.limits = {"GET": self.config.rate_limit_get, "POST": self.config.rate_limit_post}
            self._windows: dict[str, deque[float]] = {"GET": deque(), "POST": deque()}
            self.sender.reset()

    # -- clock, ids ------------------------------------------------------------------------

    def now(self) -> float:
        """The simulator's clock (unix seconds): real time plus what tests advanced."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds
        self.sender.wake()

    def _hex24(self) -> str:
        return "%024x" % self.rng.getrandbits(96)  # noqa: UP031 - zero-padded 24 hex digits

    def _short(self) -> str:
        return "".join(self.rng.choice(string.ascii_letters) for _ in range(5))

    # -- wire-side bookkeeping -------------------------------------------------------------

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.path) and fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def over_limit(self, method: str) -> bool:
        """Counts the request in its 5-second window (GET, or every other method as POST)."""
        kind = "GET" if method == "GET" else "POST"
        limit = self.limits.get(kind)
        if limit is None:
            return False
        window, now = self._windows[kind], time.monotonic()
        while window and window[0] <= now - self.config.rate_window_seconds:
            window.popleft()
        if len(window) >= limit:
            return True
        window.append(now)
        return False

    # -- applicants ------------------------------------------------------------------------

    def check_level(self, level_name: str | None) -> str:
        if not level_name:
            raise SimError(400, "levelName is required")
        if level_name not in self.config.levels:
            raise SimError(404, f"Level '{level_name}' not found")
        return level_name

    def create_applicant(self, level_name: str, body: dict[str, Any]) -> ApplicantRecord:
        external = body.get("externalUserId")
        if not isinstance(external, str) or not external:
            raise SimError(400, "externalUserId is required")
        self.check_level(level_name)
        if external in self.by_external:
            existing = self.by_external[external]
            raise SimError(409, f"Applicant with external user id '{external}' already exists: "
                                f"{existing}")  # fmt: skip
        fixed = body.get("fixedInfo") or {}
        if not isinstance(fixed, dict):
            raise SimError(400, "fixedInfo must be an object")
        now = self.now()
        applicant = ApplicantRecord(
            id=self._hex24(),
            inspection_id=self._hex24(),
            external_user_id=external,
            level_name=level_name,
            created_at=now,
            review_id=self._short(),
            attempt_id=self._short(),
            email=body.get("email"),
            phone=body.get("phone"),
            fixed_info=dict(fixed),
            applicant_type=str(body.get("type") or "individual"),
            review_created=now,
        )
        self.applicants[applicant.id] = applicant
        self.by_external[external] = applicant.id
        self.emit(applicant, "applicantCreated")
        return applicant

    def applicant(self, applicant_id: str) -> ApplicantRecord:
        found = self.applicants.get(applicant_id)
        if found is None:
            raise SimError(404, f"Applicant with id '{applicant_id}' not found")
        return found

    def by_external_id(self, external_user_id: str) -> ApplicantRecord:
        found = self.by_external.get(external_user_id)
        if found is None:
            raise SimError(404, f"Applicant with external user id '{external_user_id}' not found")
        return self.applicants[found]

    def _new_attempt(self, applicant: ApplicantRecord) -> None:
        applicant.attempt_cnt += 1
        applicant.attempt_id = self._short()
        applicant.review_created, applicant.review_date = self.now(), None
        applicant.answer, applicant.reject_type, applicant.labels = None, None, []
        applicant.moderation_comment = applicant.client_comment = None

    def _to_pending(self, applicant: ApplicantRecord) -> None:
        if applicant.review_status == "pending":
            return
        if applicant.review_status == "completed":
            self._new_attempt(applicant)
        applicant.review_status = "pending"
        self.emit(applicant, "applicantPending")

    def submit(self, applicant: ApplicantRecord, *, pending: bool = True) -> None:
        """The applicant uploaded their documents (the WebSDK's last step): they go to review
        unless ``pending`` is false (documents in, waiting for ``request_check``)."""
        if applicant.reject_type == "FINAL":
            raise final_reject()
        applicant.docs_submitted = True
        if pending:
            self._to_pending(applicant)

    def request_check(self, applicant: ApplicantRecord) -> None:
        if applicant.reject_type == "FINAL":
            raise final_reject()
        if not applicant.docs_submitted:
            raise SimError(409, "Applicant data is incomplete: no documents were submitted")
        self._to_pending(applicant)

    def review(
        self,
        applicant: ApplicantRecord,
        answer: str,
        *,
        reject_type: str | None = None,
        labels: list[str] | None = None,
        moderation_comment: str | None = None,
        client_comment: str | None = None,
    ) -> None:
        """Completes a review. Allowed in any state: Sumsub may send a later RED after a
        GREEN (a revocation), which the CRM must handle."""
        answer = answer.upper()
        if answer not in ("GREEN", "RED"):
            raise ValueError("answer is GREEN or RED")
        if answer == "RED":
            reject_type = (reject_type or "RETRY").upper()
            if reject_type not in ("RETRY", "FINAL"):
                raise ValueError("reject_type is RETRY or FINAL")
        else:
            reject_type, labels = None, []
        applicant.review_status = "completed"
        applicant.review_date = self.now()
        applicant.answer, applicant.reject_type = answer, reject_type
        applicant.labels = [str(label) for label in labels or []]
        applicant.moderation_comment, applicant.client_comment = moderation_comment, client_comment
        self.emit(applicant, "applicantReviewed")

    def reset_applicant(self, applicant: ApplicantRecord) -> None:
        """Sumsub's applicant reset: documents dropped, a fresh attempt in ``init``."""
        self._new_attempt(applicant)
        applicant.docs_submitted, applicant.review_status = False, "init"
        self.emit(applicant, "applicantReset")

    # -- access tokens ---------------------------------------------------------------------

    def issue_token(
        self,
        user_id: Any,
        level_name: Any,
        ttl: Any,
        *,
        email: str | None = None,
        phone: str | None = None,
    ) -> TokenRecord:
        if not isinstance(user_id, str) or not user_id:
            raise SimError(400, "userId is required")
        self.check_level(level_name if isinstance(level_name, str) else None)
        try:
            seconds = int(ttl) if ttl not in (None, "") else 600
        except (TypeError, ValueError):
            raise SimError(400, "ttlInSecs must be a number") from None
        if seconds <= 0:
            raise SimError(400, "ttlInSecs must be positive")
        prefix = "_act-sbx-" if self.config.sandbox_mode else "_act-"
        record = TokenRecord(
            token=f"{prefix}{uuid.UUID(int=self.rng.getrandbits(128), version=4)}",
            user_id=user_id,
            level_name=str(level_name),
            expires=self.now() + seconds,
            email=email,
            phone=phone,
        )
        self.tokens[record.token] = record
        return record

    def valid_token(self, token: str | None) -> TokenRecord | None:
        record = self.tokens.get(token or "")
        if record is None or record.expires <= self.now():
            return None
        return record

    def websdk_applicant(self, record: TokenRecord) -> ApplicantRecord:
        """The token's applicant; the WebSDK creates it on first use, as Sumsub's does."""
        record.used = True
        if record.user_id in self.by_external:
            return self.by_external_id(record.user_id)
        body = {"externalUserId": record.user_id, "email": record.email, "phone": record.phone}
        return self.create_applicant(record.level_name, body)

    # -- events ----------------------------------------------------------------------------

    def emit(self, applicant: ApplicantRecord, kind: str) -> None:
        payload = applicant.webhook_payload(
            kind,
            client_id=self.config.client_id,
            sandbox=self.config.sandbox_mode,
            now=self.now(),
        )
        self.events.append(payload)
        self.sender.emit(payload)
