"""Dealer requests (``dealer/send_request``): queued, answered "10002 Request accepted" at the
first poll and executed at the market at the next one, like a dealer desk that takes a moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from propdesk_mt5.protocol import DealReason, Retcode, TradeAction
from propdesk_mt5.simulator.book import Book, Fill
from propdesk_mt5.simulator.records import Refusal, fmt_price, to_int

#: The request fields echoed back in ``answer``, in the order the server lists them.
REQUEST_FIELDS = (
    "Action",
    "Login",
    "Symbol",
    "Volume",
    "Type",
    "TypeFill",
    "Position",
    "PositionBy",
    "PriceOrder",
    "PriceSL",
    "PriceTP",
    "Digits",
    "Comment",
)


@dataclass
class DealerRequest:
    id: int
    manager: int
    fields: dict[str, str]
    created: float
    polls: int = 0
    result: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return bool(self.result) and not self.result["Retcode"].startswith("10002")

    def wire(self) -> list[dict[str, Any]]:
        answer = {"ID": str(self.id), **{k: self.fields.get(k, "") for k in REQUEST_FIELDS}}
        answer["SourceLogin"] = str(self.manager)
        answer["ResultRetcode"] = self.result.get("Retcode", "")
        for name in ("Deal", "Order", "Volume", "Price"):
            answer[f"Result{name}"] = self.result.get(name, "0")
        return [{"result": dict(self.result)}, {"answer": answer}]


class DealerDesk:
    def __init__(self, book: Book) -> None:
        self.book = book
        self.requests: dict[int, DealerRequest] = {}
        self._next_id = 1

    def submit(self, body: Any, manager: int, now: float) -> DealerRequest:
        if not isinstance(body, dict):
            raise Refusal(Retcode.ERR_PARAMS, "the request is a JSON object")
        fields = {str(k): "" if v is None else str(v) for k, v in body.items()}
        for name in ("Action", "Login", "Type"):
            to_int(fields.get(name, ""))
        if fields.get("Volume"):
            to_int(fields["Volume"])
        request = DealerRequest(self._next_id, manager, fields, now)
        self._next_id += 1
        self.requests[request.id] = request
        return request

    def poll(self, request_id: int) -> DealerRequest | None:
        request = self.requests.get(request_id)
        if request is None:
            return None
        request.polls += 1
        if not request.done:
            if request.polls == 1:
                request.result = {"ID": str(request.id), "Retcode": str(Retcode.REQUEST_ACCEPTED)}
            else:
                self.execute(request)
        return request

    def execute_due(self, now: float, after_seconds: float = 1.0) -> None:
        """A real dealer desk acts whether or not anyone polls: execute what has waited."""
        for request in self.requests.values():
            if not request.done and now - request.created >= after_seconds:
                self.execute(request)

    def execute(self, request: DealerRequest) -> None:
        try:
            fill = self._fill(request)
        except Refusal as refusal:
            request.result = {"ID": str(request.id), "Retcode": str(refusal.retcode)}
            return
        deal = fill.deal
        request.result = {
            "ID": str(request.id),
            "Retcode": str(Retcode.REQUEST_DONE),
            "Deal": str(deal.ticket),
            "Order": str(deal.order),
            "Volume": str(deal.volume),
            "VolumeExt": str(deal.volume * 10_000),
            "Price": fmt_price(deal.price, deal.digits),
            "TickBid": fmt_price(fill.quote.bid, fill.quote.digits),
            "TickAsk": fmt_price(fill.quote.ask, fill.quote.digits),
            "TickLast": "0",
            "Comment": "",
        }

    def _fill(self, request: DealerRequest) -> Fill:
        fields = request.fields
        if to_int(fields.get("Action", "")) != TradeAction.DEALER_POS_EXECUTE:
            raise Refusal(Retcode.REQUEST_INVALID, "only Action 200 is simulated")
        login, side = to_int(fields["Login"]), to_int(fields["Type"])
        volume = to_int(fields.get("Volume") or 0)
        symbol = fields.get("Symbol", "")
        ticket = to_int(fields.get("Position") or 0)
        if not ticket:
            return self.book.open(
                login,
                symbol,
                side,
                volume,
                reason=DealReason.DEALER,
                dealer=request.manager,
                check_rights=False,
                comment=fields.get("Comment", ""),
            )
        position = self.book.positions.get(ticket)
        if (
            position is None
            or position.login != login
            or (symbol and symbol != position.symbol)
            or side != 1 - position.action
        ):
            raise Refusal(Retcode.REQUEST_INVALID, f"no position {ticket} to close that way")
        return self.book.close(
            ticket,
            volume,
            reason=DealReason.DEALER,
            dealer=request.manager,
            check_rights=False,
            comment=fields.get("Comment", ""),
        )
