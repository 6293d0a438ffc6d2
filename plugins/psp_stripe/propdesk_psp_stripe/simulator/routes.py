"""The ``/v1/...`` endpoints: a route table of method, path pattern and handler. Handlers run
under the simulator's lock and answer an object dict or raise ``StripeError``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from propdesk_psp_stripe.simulator import checkout, payments, transfers
from propdesk_psp_stripe.simulator.errors import invalid
from propdesk_psp_stripe.simulator.forms import as_list, check_known, choice, expand_paths, text
from propdesk_psp_stripe.simulator.store import Obj, created_filter, list_page

if TYPE_CHECKING:
    from propdesk_psp_stripe.simulator.core import Simulator

PAGING = ("limit", "starting_after", "ending_before", "expand")


@dataclass
class Call:
    sim: Simulator
    params: dict[str, Any]
    #: The path's ``{id}``.
    ident: str = ""
    #: ``scheme://host`` the request came in on (the hosted checkout page's base).
    base_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Call], Obj]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    regex = re.compile("^" + pattern.replace("{id}", "(?P<id>[A-Za-z0-9_]+)") + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append((method, regex, handler))
        return handler

    return register


def resolve(method: str, path: str) -> tuple[Handler, str] | None:
    """The handler and ``{id}``; None for an unknown path (or method)."""
    for verb, regex, handler in ROUTES:
        match = regex.match(path)
        if match and verb == method:
            return handler, match.groupdict().get("id") or ""
    return None


def _view(call: Call, obj: Obj, allowed: Iterable[str] = ("expand",)) -> Obj:
    check_known(call.params, allowed)
    return call.sim.store.expanded(obj, expand_paths(call.params))


def _list(
    call: Call, kind: str, url: str, filters: Iterable[str] = (), created: bool = False
) -> Obj:
    """A page of ``kind``; each of ``filters`` keeps objects whose field equals the param."""
    params = call.params
    allowed = [*PAGING, *filters] + (["created"] if created else [])
    check_known(params, allowed)
    when = created_filter(params) if created else (lambda obj: True)
    wanted = {name: text(params, name) for name in filters}
    items = [
        obj
        for obj in call.sim.store.newest_first(kind)
        if when(obj) and all(v is None or obj.get(k) == v for k, v in wanted.items())
    ]
    page = list_page(items, params, url)
    # ``expand[]=data.x`` expands inside each item.
    inner = []
    for path in expand_paths(params):
        if not path.startswith("data."):
            raise invalid(f"This property cannot be expanded ({path}).", "expand")
        inner.append(path.removeprefix("data."))
    page["data"] = [call.sim.store.expanded(obj, inner) for obj in page["data"]]
    return page


# checkout sessions


@route("POST", "/v1/checkout/sessions")
def create_session(call: Call) -> Obj:
    session = checkout.create_session(call.sim, call.params, call.base_url)
    return call.sim.store.expanded(session, expand_paths(call.params))


@route("GET", "/v1/checkout/sessions")
def list_sessions(call: Call) -> Obj:
    filters = ("payment_intent", "status", "customer")
    return _list(call, "checkout.session", "/v1/checkout/sessions", filters, created=True)


@route("GET", "/v1/checkout/sessions/{id}")
def get_session(call: Call) -> Obj:
    return _view(call, call.sim.store.require("checkout.session", call.ident, "session"))


@route("POST", "/v1/checkout/sessions/{id}/expire")
def expire_session(call: Call) -> Obj:
    check_known(call.params, ("expand",))
    return _view(call, checkout.expire(call.sim, call.ident))


@route("GET", "/v1/checkout/sessions/{id}/line_items")
def session_line_items(call: Call) -> Obj:
    call.sim.store.require("checkout.session", call.ident, "session")
    check_known(call.params, PAGING)
    items = call.sim.store.line_items.get(call.ident, [])
    return list_page(items, call.params, f"/v1/checkout/sessions/{call.ident}/line_items")


# payment intents and charges


@route("GET", "/v1/payment_intents/{id}")
def get_intent(call: Call) -> Obj:
    return _view(call, call.sim.store.require("payment_intent", call.ident, "intent"))


@route("GET", "/v1/payment_intents")
def list_intents(call: Call) -> Obj:
    return _list(call, "payment_intent", "/v1/payment_intents", ("customer",), created=True)


@route("GET", "/v1/charges/{id}")
def get_charge(call: Call) -> Obj:
    return _view(call, call.sim.store.require("charge", call.ident, "charge"))


@route("GET", "/v1/charges")
def list_charges(call: Call) -> Obj:
    return _list(call, "charge", "/v1/charges", ("payment_intent", "customer"), created=True)


# refunds


@route("POST", "/v1/refunds")
def create_refund(call: Call) -> Obj:
    refund = payments.create_refund(call.sim, call.params)
    return call.sim.store.expanded(refund, expand_paths(call.params))


@route("GET", "/v1/refunds/{id}")
def get_refund(call: Call) -> Obj:
    return _view(call, call.sim.store.require("refund", call.ident, "refund"))


@route("GET", "/v1/refunds")
def list_refunds(call: Call) -> Obj:
    return _list(call, "refund", "/v1/refunds", ("charge", "payment_intent"), created=True)


# disputes


@route("GET", "/v1/disputes/{id}")
def get_dispute(call: Call) -> Obj:
    return _view(call, call.sim.store.require("dispute", call.ident, "dispute"))


@route("GET", "/v1/disputes")
def list_disputes(call: Call) -> Obj:
    return _list(call, "dispute", "/v1/disputes", ("charge", "payment_intent"), created=True)


# Connect: transfers, the balance they draw on, connected accounts


@route("POST", "/v1/transfers")
def create_transfer(call: Call) -> Obj:
    transfer = transfers.create_transfer(call.sim, call.params)
    return call.sim.store.expanded(transfer, expand_paths(call.params))


@route("GET", "/v1/transfers/{id}")
def get_transfer(call: Call) -> Obj:
    return _view(call, call.sim.store.require("transfer", call.ident, "id"))


@route("GET", "/v1/transfers")
def list_transfers(call: Call) -> Obj:
    filters = ("destination", "transfer_group")
    return _list(call, "transfer", "/v1/transfers", filters, created=True)


@route("GET", "/v1/balance")
def get_balance(call: Call) -> Obj:
    check_known(call.params, ("expand",))
    return transfers.balance(call.sim)


@route("GET", "/v1/accounts/{id}")
def get_account(call: Call) -> Obj:
    return _view(call, call.sim.store.require("account", call.ident, "account"))


# events


@route("GET", "/v1/events/{id}")
def get_event(call: Call) -> Obj:
    return _view(call, call.sim.store.require("event", call.ident, "id"))


def _type_matches(pattern: str, event_type: str) -> bool:
    if pattern.endswith("*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


@route("GET", "/v1/events")
def list_events(call: Call) -> Obj:
    """Newest first; ``type`` (``*`` wildcards), ``types[]`` (up to 20), ``created[...]``,
    ``delivery_success``."""
    params = call.params
    check_known(params, (*PAGING, "type", "types", "created", "delivery_success"))
    single = text(params, "type")
    many = [str(t) for t in as_list(params.get("types", []), "types")]
    if single is not None and many:
        raise invalid("You may only specify one of these parameters: type, types.")
    if len(many) > 20:
        raise invalid("You may pass at most 20 types.", "types")
    patterns = [single] if single is not None else many
    when = created_filter(params)
    delivered = choice(params, "delivery_success", ("true", "false"))
    items = [
        event
        for event in call.sim.store.newest_first("event")
        if when(event)
        and (not patterns or any(_type_matches(p, event["type"]) for p in patterns))
        and (delivered is None or (event["pending_webhooks"] == 0) == (delivered == "true"))
    ]
    return list_page(items, params, "/v1/events")
