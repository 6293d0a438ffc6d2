"""The ASGI front: ``/v1/...`` is Stripe's wire (API keys, form bodies, idempotency keys,
injected faults, JSON answers with ``Request-Id``, the request log); everything else goes to
the Litestar app (control API and hosted checkout page)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl

from propdesk.testing.simulators import drop_connection, read_body
from propdesk_psp_stripe.simulator import routes
from propdesk_psp_stripe.simulator.core import Fault, Simulator
from propdesk_psp_stripe.simulator.errors import (
    StripeError,
    api_error,
    authentication,
    rate_limited,
    unavailable,
    unrecognized,
)
from propdesk_psp_stripe.simulator.forms import parse_form
from propdesk_psp_stripe.simulator.idempotency import Replay
from propdesk_psp_stripe.simulator.store import new_id

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]


def encode(payload: Any) -> bytes:
    # Stripe answers pretty-printed JSON.
    return json.dumps(payload, indent=2, ensure_ascii=False).encode("utf-8")


def api_key(headers: dict[str, str]) -> str | None:
    """The key of ``Authorization: Bearer <key>`` or Basic ``<key>:``."""
    scheme, _, credentials = headers.get("authorization", "").strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    if scheme.lower() == "basic" and credentials:
        try:
            user = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user.partition(":")[0] or None
    return None


def masked(key: str) -> str:
    return f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"


class WireApp:
    def __init__(self, sim: Simulator, inner: Any) -> None:
        self.sim, self.inner = sim, inner

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.inner(scope, receive, send)
            return
        status, body, headers, dropped = await self.serve(scope, await read_body(receive))
        if dropped:
            await drop_connection(send)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def serve(self, scope: Scope, raw: bytes) -> tuple[int, bytes, Headers, bool]:
        """The status, body and headers of the answer, and whether to drop the connection
        instead of sending it (an injected fault)."""
        sim, request_id = self.sim, new_id("req_", 14)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"].upper(), scope["path"]
        extra: dict[str, str] = {}
        entry: dict[str, Any] = {
            "id": request_id, "time": sim.clock.time(), "method": method, "path": path,
            "params": None, "idempotency_key": None, "api_key": None, "replayed": False,
            "dropped": False,
        }  # fmt: skip
        try:
            status, body, extra = await self._answer(scope, headers, raw, request_id, entry)
        except StripeError as error:
            status, body, extra = error.status, encode(error.body(request_id)), error.headers
        entry["status"] = status
        if status >= 400:
            entry["error"] = json.loads(body).get("error")
        with sim.lock:
            sim.requests.append(entry)
        out: Headers = [
            (b"content-type", b"application/json"),
            (b"request-id", request_id.encode()),
            (b"stripe-version", headers.get("stripe-version", sim.config.api_version).encode()),
            (b"access-control-allow-origin", b"*"),
        ]
        out += [(k.lower().encode(), v.encode("latin-1")) for k, v in extra.items()]
        return status, body, out, bool(entry["dropped"])

    async def _answer(
        self,
        scope: Scope,
        headers: dict[str, str],
        raw: bytes,
        request_id: str,
        entry: dict[str, Any],
    ) -> tuple[int, bytes, dict[str, str]]:
        sim, method, path = self.sim, scope["method"].upper(), scope["path"]
        key = api_key(headers)
        if key is None:
            raise authentication(
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/."
            )
        entry["api_key"] = masked(key)
        if key not in sim.config.secret_keys:
            raise authentication(f"Invalid API Key provided: {masked(key)}")
        query = scope.get("query_string", b"")
        params = parse_form(raw if method == "POST" else query)
        if method == "POST" and query:
            params = {**parse_form(query), **params}
        entry["params"] = params
        found = routes.resolve(method, path)
        if found is None:
            raise unrecognized(method, path)
        handler, ident = found
        with sim.lock:
            fault = sim.faults.take(method, path)
        if fault is not None and fault.status == 429:
            raise rate_limited()
        if fault is not None and not fault.apply:
            return await self._unapplied(fault, entry)
        # The answer, whatever it is (a replay, an error), is lost on the way back.
        entry["dropped"] = fault is not None and fault.drop
        idem = headers.get("idempotency-key") if method in ("POST", "DELETE") else None
        entry["idempotency_key"] = idem
        extra = {"idempotency-key": idem} if idem else {}
        if idem:
            fingerprint = (method, path, params)
            with sim.lock:
                replay = sim.idempotency.begin(key, idem, fingerprint, sim.clock.time(), request_id)
            if isinstance(replay, Replay):
                entry["replayed"] = True
                extra |= {"idempotent-replayed": "true", "original-request": replay.request_id}
                return replay.status, replay.body, extra
        try:
            if fault is not None and fault.delay > 0:
                await asyncio.sleep(fault.delay)
            status, body, save = self._run(handler, ident, params, scope, headers, request_id, idem)
            if fault is not None and fault.status is not None and fault.status >= 500:
                failure = api_error()
                status, body, save = failure.status, encode(failure.body(request_id)), True
        except BaseException:
            if idem:
                with sim.lock:
                    sim.idempotency.abandon(key, idem)
            raise
        if idem:
            with sim.lock:
                if save:
                    sim.idempotency.finish(key, idem, status, body)
                else:
                    sim.idempotency.abandon(key, idem)
        return status, body, extra

    async def _unapplied(
        self, fault: Fault, entry: dict[str, Any]
    ) -> tuple[int, bytes, dict[str, str]]:
        """A fault before the endpoint runs: a drop (status 0 in the log) or a bare 5xx."""
        if fault.delay > 0:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            entry["dropped"] = True
            return 0, b"", {}
        raise unavailable(fault.status or 503)

    def _run(
        self,
        handler: routes.Handler,
        ident: str,
        params: dict[str, Any],
        scope: Scope,
        headers: dict[str, str],
        request_id: str,
        idem: str | None,
    ) -> tuple[int, bytes, bool]:
        """The handler's status, body and whether an idempotency key keeps the result."""
        sim = self.sim
        scheme = scope.get("scheme", "http")
        base_url = f"{scheme}://{headers.get('host', 'localhost')}"
        with sim.lock:
            sim.touch()
            sim.request_context = (request_id, idem)
            try:
                result = handler(routes.Call(sim, params, ident, base_url))
                return 200, encode(result), True
            except StripeError as error:
                return error.status, encode(error.body(request_id)), error.save
            except Exception as exc:  # a bug answers like Stripe's 500, and is kept like one
                failure = api_error(f"Simulator error: {type(exc).__name__}: {exc}")
                return 500, encode(failure.body(request_id)), True
            finally:
                sim.request_context = (None, None)


def form_pairs(raw: bytes) -> dict[str, str]:
    """A plain form body (the hosted checkout page's buttons)."""
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
