"""The app-token request signature, against the documented vector."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from propdesk_kyc_sumsub.signing import SumsubAuth, sign_request

VECTOR_TS = 1607551635
VECTOR_PATH = (
    "/resources/accessTokens?userId=cfd20712-24a2-4c7d-9ab0-146f3c142335"
    "&levelName=basic-kyc-level&ttlInSecs=600"
)
VECTOR_SIG = "d83abc452b742637e74439ed5f5f94246241b2d8b69f5e79d71a24fb4707121d"


def test_documented_vector() -> None:
    assert sign_request("secret", VECTOR_TS, "POST", VECTOR_PATH) == VECTOR_SIG
    assert sign_request(b"secret", str(VECTOR_TS), "post", VECTOR_PATH.encode()) == VECTOR_SIG


def test_any_change_changes_the_signature() -> None:
    assert sign_request("secret2", VECTOR_TS, "POST", VECTOR_PATH) != VECTOR_SIG
    assert sign_request("secret", VECTOR_TS + 1, "POST", VECTOR_PATH) != VECTOR_SIG
    assert sign_request("secret", VECTOR_TS, "GET", VECTOR_PATH) != VECTOR_SIG
    assert sign_request("secret", VECTOR_TS, "POST", VECTOR_PATH, b"{}") != VECTOR_SIG


def _signed(request: httpx.Request, clock: float = VECTOR_TS) -> httpx.Request:
    auth = SumsubAuth("sbx:token", "secret", clock=lambda: clock)
    return next(auth.auth_flow(request))


def test_auth_signs_the_url_as_sent() -> None:
    request = _signed(httpx.Request("POST", f"https://api.sumsub.com{VECTOR_PATH}"))
    assert request.headers["X-App-Token"] == "sbx:token"
    assert request.headers["X-App-Access-Ts"] == str(VECTOR_TS)
    assert request.headers["X-App-Access-Sig"] == VECTOR_SIG


def test_auth_signs_encoded_query_and_body() -> None:
    body = b'{"userId":"a b","levelName":"basic kyc"}'
    request = httpx.Request(
        "POST",
        "https://api.sumsub.com/resources/accessTokens",
        params={"userId": "jo+e@x/1", "levelName": "basic kyc"},
        content=body,
    )
    signed = _signed(request, 1700000000.9)
    path = request.url.raw_path
    assert b"jo%2Be%40x%2F1" in path  # encoded before signing, as it goes on the wire
    message = b"1700000000POST" + path + body
    expected = hmac.new(b"secret", message, hashlib.sha256).hexdigest()
    assert signed.headers["X-App-Access-Ts"] == "1700000000"
    assert signed.headers["X-App-Access-Sig"] == expected


def test_get_signs_without_body() -> None:
    signed = _signed(httpx.Request("GET", "https://api.sumsub.com/resources/applicants/abc/one"))
    expected = sign_request("secret", VECTOR_TS, "GET", "/resources/applicants/abc/one")
    assert signed.headers["X-App-Access-Sig"] == expected
