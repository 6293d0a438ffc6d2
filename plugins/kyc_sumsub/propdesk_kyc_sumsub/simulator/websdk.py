"""A stand-in for Sumsub's WebSDK: ``GET /websdk?accessToken=...`` shows the applicant's state
and, while documents may be sent, a form whose button "submits documents"; that moves the
applicant to ``pending`` (``applicantPending``) and shows the page again."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from litestar import Request, Response, Router, get, post
from litestar.enums import MediaType
from litestar.params import QueryParameter
from litestar.response import Redirect

from propdesk_kyc_sumsub.simulator.records import ApplicantRecord, SimError
from propdesk_kyc_sumsub.simulator.state import Simulator

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Identity verification</title></head>
<body><main id="websdk" data-status="{status}" data-applicant-id="{applicant_id}">
<h1>Identity verification</h1>
{body}
</main></body></html>
"""


def _page(body: str, status: str = "", applicant_id: str = "", code: int = 200) -> Response[str]:
    html = _PAGE.format(body=body, status=escape(status), applicant_id=escape(applicant_id))
    return Response(html, media_type=MediaType.HTML, status_code=code)


def _refused(reason: str, code: int) -> Response[str]:
    return _page(f'<p id="error" role="alert">{escape(reason)}</p>', code=code)


def _may_submit(applicant: ApplicantRecord) -> bool:
    if applicant.review_status == "init":
        return True
    return applicant.review_status == "completed" and applicant.reject_type == "RETRY"


def _state(applicant: ApplicantRecord) -> str:
    if applicant.review_status == "pending":
        return "Your documents were submitted and are being reviewed."
    if applicant.answer == "GREEN":
        return "You are verified."
    if applicant.reject_type == "RETRY":
        return "Your documents were rejected: please submit them again."
    if applicant.reject_type == "FINAL":
        return "Your verification was rejected."
    return "Please submit your identity documents."


def _view(applicant: ApplicantRecord, token: str) -> Response[str]:
    parts = [
        f'<p id="user">Applicant <code>{escape(applicant.external_user_id)}</code>, '
        f"level <code>{escape(applicant.level_name)}</code></p>",
        f'<p id="state">{escape(_state(applicant))}</p>',
    ]
    if applicant.moderation_comment:
        parts.append(f'<p id="comment">{escape(applicant.moderation_comment)}</p>')
    if _may_submit(applicant):
        parts.append(
            '<form id="documents" method="post" action="/websdk/submit">'
            f'<input type="hidden" name="accessToken" value="{escape(token)}">'
            '<button type="submit" id="submit">Submit documents</button></form>'
        )
    return _page("\n".join(parts), applicant.review_status, applicant.id)


def websdk_router(sim: Simulator) -> Router:
    expired = "This access token is invalid or has expired."

    @get("/", sync_to_thread=False)
    def page(
        access_token: Annotated[str | None, QueryParameter(name="accessToken")] = None,
    ) -> Response[Any]:
        with sim.lock:
            record = sim.valid_token(access_token)
            if record is None:
                return _refused(expired, 401)
            try:
                applicant = sim.websdk_applicant(record)
            except SimError as error:
                return _refused(error.description, error.status)
            return _view(applicant, record.token)

    @post("/submit", status_code=303)
    async def submit(request: Request[Any, Any, Any]) -> Response[Any]:
        # Parsed by hand: the form is one hidden field, no need for Litestar's form models.
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        token = form.get("accessToken") or request.query_params.get("accessToken")
        with sim.lock:
            record = sim.valid_token(token)
            if record is None:
                return _refused(expired, 401)
            try:
                sim.submit(sim.websdk_applicant(record))
            except SimError as error:
                return _refused(error.description, error.status)
        return Redirect(f"/websdk?{urlencode({'accessToken': record.token})}", status_code=303)

    return Router(path="/websdk", route_handlers=[page, submit])
