"""Groups and user accounts of the simulated server: logins, passwords, group masks."""

from __future__ import annotations

from collections.abc import Callable

from propdesk_mt5.protocol import Retcode
from propdesk_mt5.simulator.records import Group, Refusal, User
from propdesk_mt5.simulator.rules import group_matcher, strong_password


class Registry:
    def __init__(self, now_msc: Callable[[], int], first_login: int) -> None:
        self.now_msc = now_msc
        self.first_login = first_login
        self.groups: dict[str, Group] = {}
        self.users: dict[int, User] = {}
        #: Logins taken by something else (the managers).
        self.reserved_logins: set[int] = set()
        self.on_user_added: list[Callable[[User], None]] = []
        self._next_login = first_login

    def add_group(self, group: Group) -> None:
        self.groups[group.name.casefold()] = group

    def group(self, name: str) -> Group | None:
        return self.groups.get(name.casefold())

    def user(self, login: int) -> User:
        user = self.users.get(login)
        if user is None:
            raise Refusal(Retcode.ERR_NOTFOUND, f"no account {login}")
        return user

    def users_in(self, mask: str) -> list[User]:
        matches = group_matcher(mask)
        return [u for _, u in sorted(self.users.items()) if matches(u.group)]

    def add_user(
        self,
        *,
        group: str,
        leverage: int,
        pass_main: str,
        pass_investor: str,
        login: int = 0,
        rights: int,
        text: dict[str, str],
        api_data: list[dict[str, str]],
    ) -> User:
        known = self.group(group)
        if known is None:
            raise Refusal(Retcode.ERR_PARAMS, f"no group {group!r}")
        if not 1 <= leverage <= 10_000:
            raise Refusal(Retcode.ERR_PARAMS, "leverage")
        if not (strong_password(pass_main) and strong_password(pass_investor)):
            raise Refusal(Retcode.USR_INVALID_PASSWORD)
        if login:
            if login in self.users or login in self.reserved_logins:
                raise Refusal(Retcode.USR_LOGIN_EXIST)
        else:
            login = self._allocate_login()
        now = self.now_msc() // 1000
        user = User(
            login=login,
            group=known.name,
            rights=rights,
            leverage=leverage,
            pass_main=pass_main,
            pass_investor=pass_investor,
            registration=now,
            last_access=now,
            last_pass_change=now,
            text=dict(text),
            api_data=[dict(item) for item in api_data],
        )
        self.users[login] = user
        for listener in self.on_user_added:
            listener(user)
        return user

    def _allocate_login(self) -> int:
        while self._next_login in self.users or self._next_login in self.reserved_logins:
            self._next_login += 1
        if self._next_login > 2**63 - 1:
            raise Refusal(Retcode.USR_LOGIN_EXHAUSTED)
        login = self._next_login
        self._next_login += 1
        return login

    def move_user(self, user: User, group: str) -> None:
        target = self.group(group)
        if target is None:
            raise Refusal(Retcode.ERR_PARAMS, f"no group {group!r}")
        current = self.group(user.group)
        if current is not None and current.currency != target.currency:
            raise Refusal(Retcode.USR_DIFFERENT_CURRENCY)
        user.group = target.name

    def delete_user(self, login: int) -> None:
        self.user(login)
        if self.has_positions(login):
            raise Refusal(Retcode.USR_HAS_TRADES)
        del self.users[login]

    def has_positions(self, login: int) -> bool:
        return False

    def check_password(self, login: int, kind: str, password: str) -> bool:
        user = self.user(login)
        return password == (user.pass_investor if kind == "investor" else user.pass_main)

    def change_password(self, login: int, kind: str, password: str) -> None:
        user = self.user(login)
        if not strong_password(password):
            raise Refusal(Retcode.USR_INVALID_PASSWORD)
        if kind == "investor":
            user.pass_investor = password
        else:
            user.pass_main = password
        user.last_pass_change = self.now_msc() // 1000
