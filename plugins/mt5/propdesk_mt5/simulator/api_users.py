"""Wire commands on users, their trade state and balance operations."""

from __future__ import annotations

from typing import Any

from propdesk_mt5.protocol import COMMENT_LENGTH, DEFAULT_RIGHTS, Retcode
from propdesk_mt5.simulator.records import TEXT_FIELDS, Refusal, User, to_decimal, to_int
from propdesk_mt5.simulator.wire import Call, command, selector


def _pick(call: Call, query_name: str, record_name: str) -> Any:
    """A user field: from the body under its record name, else from the query."""
    fields = call.fields()
    if fields.get(record_name) is not None:
        return fields[record_name]
    return call.query.get(query_name)


def _text_changes(call: Call) -> dict[str, str]:
    changes = {}
    for name, query_name in TEXT_FIELDS.items():
        value = _pick(call, query_name, name)
        if value is not None:
            changes[name] = str(value)
    return changes


def _api_data(value: Any) -> list[dict[str, str]] | None:
    if not isinstance(value, list):
        return None
    return [{str(k): str(v) for k, v in item.items()} for item in value if isinstance(item, dict)]


def _optional_int(value: Any) -> int | None:
    try:
        return None if value in (None, "") else to_int(value)
    except Refusal:
        return None


def _users(call: Call) -> list[User]:
    book = call.sim.book
    if selector(call, ("login", "group")) == "login":
        return [book.users[login] for login in call.ints("login") if login in book.users]
    return book.users_in(call.required("group"))


@command("/api/user/add")
def user_add(call: Call) -> dict[str, Any]:
    fields = call.fields()
    group, leverage = _pick(call, "group", "Group"), _pick(call, "leverage", "Leverage")
    pass_main, pass_investor = fields.get("PassMain"), fields.get("PassInvestor")
    if not group or leverage in (None, "") or not pass_main or not pass_investor:
        raise Refusal(Retcode.ERR_PARAMS, "group, leverage and both passwords are required")
    text = _text_changes(call)
    if not text.get("Name"):
        text["Name"] = " ".join(filter(None, (text.get("FirstName"), text.get("LastName"))))
    if not text["Name"]:
        raise Refusal(Retcode.ERR_PARAMS, "name is required")
    rights = _pick(call, "rights", "Rights")
    user = call.sim.book.add_user(
        group=str(group),
        leverage=to_int(leverage),
        pass_main=str(pass_main),
        pass_investor=str(pass_investor),
        login=to_int(_pick(call, "login", "Login") or 0),
        rights=int(DEFAULT_RIGHTS) if rights in (None, "") else to_int(rights),
        text=text,
        api_data=_api_data(fields.get("ApiData")) or [],
    )
    return {"login": str(user.login), "answer": user.wire()}


@command("/api/user/get")
def user_get(call: Call) -> dict[str, Any]:
    return {"answer": call.sim.book.user(call.integer("login")).wire()}


@command("/api/user/get_batch")
def user_get_batch(call: Call) -> dict[str, Any]:
    return {"answer": [user.wire() for user in _users(call)]}


@command("/api/user/update")
def user_update(call: Call) -> dict[str, Any]:
    login = _optional_int(call.query.get("login")) or _optional_int(call.fields().get("Login"))
    if not login:
        raise Refusal(Retcode.ERR_PARAMS, "login is required")
    book = call.sim.book
    user = book.user(login)
    group = _pick(call, "group", "Group")
    if group:
        book.move_user(user, str(group))
    # Like the real server, values it cannot use are ignored rather than refused.
    leverage = _optional_int(_pick(call, "leverage", "Leverage"))
    if leverage is not None and 1 <= leverage <= 10_000:
        user.leverage = leverage
    rights = _optional_int(_pick(call, "rights", "Rights"))
    if rights is not None and rights >= 0:
        user.rights = rights
    user.text.update(_text_changes(call))
    api_data = _api_data(call.fields().get("ApiData"))
    if api_data is not None:
        user.api_data = api_data
    return {"answer": user.wire()}


@command("/api/user/delete")
def user_delete(call: Call) -> dict[str, Any]:
    call.sim.book.delete_user(call.integer("login"))
    return {}


@command("/api/user/logins")
def user_logins(call: Call) -> dict[str, Any]:
    users = call.sim.book.users_in(call.required("group"))
    return {"answer": [str(user.login) for user in users]}


def _password_kind(call: Call) -> str:
    kind = call.param("type") or "main"
    if kind not in ("main", "investor"):
        raise Refusal(Retcode.ERR_PARAMS, "type is main or investor")
    return kind


@command("/api/user/check_password")
def user_check_password(call: Call) -> dict[str, Any]:
    login, kind = call.integer("login"), _password_kind(call)
    if not call.sim.book.check_password(login, kind, call.query.get("password", "")):
        raise Refusal(Retcode.USR_INVALID_PASSWORD)
    return {}


@command("/api/user/change_password")
def user_change_password(call: Call) -> dict[str, Any]:
    login, kind = call.integer("login"), _password_kind(call)
    password = call.fields().get("Password") or call.query.get("password")
    if not password:
        raise Refusal(Retcode.ERR_PARAMS, "Password is required")
    call.sim.book.change_password(login, kind, str(password))
    return {}


def _account(call: Call, user: User) -> dict[str, Any]:
    return call.sim.book.state(user.login).wire(user)


@command("/api/user/account/get")
def account_get(call: Call) -> dict[str, Any]:
    user = call.sim.book.user(call.integer("login"))
    if not user.traded:
        # Trade state exists only for accounts that traded since the server started.
        raise Refusal(Retcode.ERR_NOTFOUND, "no trade state")
    return {"answer": _account(call, user)}


@command("/api/user/account/get_batch")
def account_get_batch(call: Call) -> dict[str, Any]:
    return {"answer": [_account(call, user) for user in _users(call) if user.traded]}


@command("/api/trade/balance")
def trade_balance(call: Call) -> dict[str, Any]:
    login, action = call.integer("login"), call.integer("type")
    amount = to_decimal(call.required("balance"))
    comment = (call.param("comment") or "")[:COMMENT_LENGTH]
    check_margin = call.param("check_margin") not in ("0", "false", "False")
    deal = call.sim.book.balance(
        login, action, amount, comment, check_margin=check_margin, dealer=call.manager
    )
    return {"answer": {"Ticket": str(deal.ticket)}}
