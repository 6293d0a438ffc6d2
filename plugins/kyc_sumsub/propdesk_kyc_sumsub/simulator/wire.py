"""The wire API (``/resources/...``) as plain ASGI: it needs the raw path, query and body as
sent to check signatures, and answers errors in Sumsub's shape. Other paths go to ``inner``
(the Litestar app of the WebSDK page and the control API)."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qsl, unquote

from propdesk.testing.simulators import drop_connection, read_body
from propdesk_kyc_sumsub.simulator.records import SimError
from propdesk_kyc_sumsub.simulator.state import Fault, Simulator

Scope = dict[str, Any]
Answer = tuple[int, Any, dict[str, str]]
_EXTERNAL = "-;externalUserId="


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


class WireApp:
    def __init__(self, sim: Simulator, inner: Any) -> None:
        self.sim, self.inner = sim, inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/resources/"):
            await self.inner(scope, receive, send)
            return
        raw = await read_body(receive)
        fault = self.sim.take_fault(scope["path"])
        if fault is not None and fault.action == "drop":
            self._log(scope, raw, None, fault)
            await drop_connection(send)
            return
        status, body, extra = self._answer(scope, raw, fault)
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = [(b"content-type", b"application/json;charset=UTF-8")]
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    def _answer(self, scope: Scope, raw: bytes, fault: Fault | None) -> Answer:
        sim = self.sim
        with sim.lock:
            try:
                if fault is not None:
                    raise SimError(fault.status, fault.description, retry_after=fault.retry_after)
                self._authenticate(scope, raw)
                if sim.over_limit(scope["method"]):
                    raise SimError(429, "Too many requests")
                status, body = self._dispatch(scope, raw)
                extra: dict[str, str] = {}
            except SimError as error:
                status, body = error.status, error.body()
                extra = {}
                if error.retry_after is not None:
                    extra["Retry-After"] = str(round(error.retry_after))
            self._log(scope, raw, status, fault)
            return status, body, extra

    def _log(self, scope: Scope, raw: bytes, status: int | None, fault: Fault | None) -> None:
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        query = scope.get("query_string", b"").decode("latin-1")
        with self.sim.lock:
            self.sim.requests.append({
                "time": self.sim.now(),
                "method": scope["method"],
                "path": scope["path"],
                "raw_path": scope.get("raw_path", b"").decode("latin-1")
                + (f"?{query}" if query else ""),
                "query": dict(parse_qsl(query, keep_blank_values=True)),
                "body": body,
                "app_token": _headers(scope).get("x-app-token"),
                "status": status,
                "fault": fault.action if fault else None,
            })  # fmt: skip

    def _authenticate(self, scope: Scope, raw: bytes) -> None:
        config, headers = self.sim.config, _headers(scope)
        token, ts = headers.get("x-app-token"), headers.get("x-app-access-ts")
        signature = headers.get("x-app-access-sig")
        if not token or not ts or not signature:
            raise SimError(401, "App token, timestamp and signature headers are required")
        if not hmac.compare_digest(token.encode(), config.app_token.encode()):
            raise SimError(401, "Invalid app token")
        try:
            stamp = int(ts)
        except ValueError:
            raise SimError(401, "Invalid request timestamp") from None
        if abs(self.sim.now() - stamp) > config.ts_tolerance_seconds:
            raise SimError(401, "Request timestamp is out of the allowed range (1 minute)")
        # Sign over what came on the wire: the raw (still percent-encoded) path and query.
        query = scope.get("query_string", b"")
        message = ts.encode() + scope["method"].upper().encode() + scope.get("raw_path", b"")
        message += (b"?" + query if query else b"") + raw
        expected = hmac.new(config.secret_key.encode(), message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise SimError(401, "Request signature mismatch", error_code=4003,
                           error_name="app-token-signature mismatch")  # fmt: skip

    def _dispatch(self, scope: Scope, raw: bytes) -> tuple[int, Any]:
        sim, method = self.sim, scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode()
        # Split before decoding, so an encoded "/" inside an id stays in its segment.
        parts = [unquote(p) for p in raw_path.decode("latin-1").split("/")[2:]]
        query = dict(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True))
        if parts == ["applicants"] and method == "POST":
            applicant = sim.create_applicant(query.get("levelName", ""), _object(raw))
            return 200, applicant.applicant_json(sim.config.client_id)
        if len(parts) >= 3 and parts[0] == "applicants":
            ref, rest = parts[1], parts[2:]
            if rest == ["one"] and method == "GET":
                if ref.startswith(_EXTERNAL):
                    applicant = sim.by_external_id(ref[len(_EXTERNAL) :])
                else:
                    applicant = sim.applicant(ref)
                return 200, applicant.applicant_json(sim.config.client_id)
            if rest == ["status"] and method == "GET":
                return 200, sim.applicant(ref).status_json()
            if rest == ["status", "pending"] and method == "POST":
                sim.request_check(sim.applicant(ref))
                return 200, {"ok": 1}
        if parts == ["accessTokens", "sdk"] and method == "POST":
            body = _object(raw)
            ids = body.get("applicantIdentifiers") or {}
            ids = ids if isinstance(ids, dict) else {}
            record = sim.issue_token(body.get("userId"), body.get("levelName"),
                                     body.get("ttlInSecs"), email=ids.get("email"),
                                     phone=ids.get("phone"))  # fmt: skip
            return 200, {"token": record.token, "userId": record.user_id}
        if parts == ["accessTokens"] and method == "POST":
            record = sim.issue_token(
                query.get("userId"), query.get("levelName"), query.get("ttlInSecs")
            )
            return 200, {"token": record.token, "userId": record.user_id}
        raise SimError(404, f"Resource not found: {method} {scope['path']}")


def _object(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise SimError(400, "Request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise SimError(400, "Request body must be a JSON object")
    return data
