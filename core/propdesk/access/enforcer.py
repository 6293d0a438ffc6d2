"""The process's casbin policy, loaded from ``propdesk.casbin_rule`` and kept in sync.

Every process (web server, worker) holds the whole policy in memory, so ``enforce`` is a
synchronous, in-memory check. Writes go to the table inside the caller's transaction (with the
audit record, see ``propdesk.access.policies``); after commit a message on the Redis channel
``propdesk:policy`` makes every process reload. A periodic reload covers lost messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import casbin
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import select

from propdesk.access.models import PolicyRule
from propdesk.access.permissions import Permission
from propdesk.pubsub import POLICY_CHANNEL, publish

if TYPE_CHECKING:
    from propdesk.db.engine import Database
    from propdesk.runtime import Runtime

log = logging.getLogger(__name__)
#: Serialises casbin's work on a cache miss (see ``CasbinPolicy.enforce``).
_CASBIN_LOCK = threading.Lock()

#: The domain of group-wide grants and of group-scope permission checks.
GROUP_DOMAIN = "*"
MODEL_PATH = Path(__file__).with_name("model.conf")
_MODEL_TEXT = MODEL_PATH.read_text()

Rule = tuple[str, ...]


def group_domain_match(request_domain: str, granted_domain: str) -> bool:
    """casbin's domain matching function: a grant in ``*`` also counts in every desk.

    casbin calls it as ``(domain asked about, domain a grant was made in)`` for every other
    domain it knows; a grant in one desk therefore never counts in another desk, nor in ``*``.
    """
    return granted_domain == GROUP_DOMAIN


def _model(policies: Iterable[Rule]) -> casbin.model.Model:
    model = casbin.Enforcer.new_model(text=_MODEL_TEXT)
    # Assign the rule list directly: Model.add_policy is quadratic (a list scan per rule).
    unique = list(dict.fromkeys(tuple(rule) for rule in policies))
    model["p"]["p"].policy = [list(rule) for rule in unique]
    model["p"]["p"].policy_map = {",".join(rule): i for i, rule in enumerate(unique)}
    return model


def build_casbin(policies: Iterable[Rule], groupings: Iterable[Rule]) -> casbin.Enforcer:
    """A casbin enforcer holding exactly these ``p`` and ``g`` rules (no adapter, no I/O)."""
    model = _model(policies)
    model["g"]["g"].policy = [list(rule) for rule in dict.fromkeys(tuple(g) for g in groupings)]
    enforcer = casbin.Enforcer(model)
    enforcer.add_named_domain_matching_func("g", group_domain_match)
    enforcer.build_role_links()
    return enforcer


#: Answers remembered per policy; the policy is immutable, a reload builds a new one.
MAX_ANSWERS = 100_000


class CasbinPolicy:
    """One immutable policy, answering questions in time independent of the number of desks.

    casbin evaluates the matcher against every ``p`` rule, so a check over thousands of rules
    costs milliseconds. The only rules that can match ``(dom, obj, act)`` are those for
    ``(obj, act)`` in ``dom`` or ``*``; each such slice gets a small casbin enforcer (built on
    first use) that shares the full enforcer's role manager, so answers are casbin's own.
    """

    def __init__(self, policies: Iterable[Rule], groupings: Iterable[Rule]) -> None:
        rules = list(dict.fromkeys(tuple(rule) for rule in policies))
        self.full = build_casbin(rules, groupings)
        self._roles = self.full.get_role_manager()
        self._rules: dict[tuple[str, str], dict[str, list[Rule]]] = {}
        for rule in rules:
            _, dom, obj, act = rule
            self._rules.setdefault((obj, act), {}).setdefault(dom, []).append(rule)
        self._slices: dict[tuple[str, str, str], casbin.Enforcer] = {}
        # casbin parses its matcher (ast.parse) on every check: remember the answers instead.
        self._answers: dict[tuple[str, str, str, str], bool] = {}

    def _slice(self, dom: str, obj: str, act: str) -> casbin.Enforcer | None:
        key = (dom, obj, act)
        if key in self._slices:
            return self._slices[key]
        by_domain = self._rules.get((obj, act), {})
        rules = by_domain.get(dom, []) + (
            by_domain.get(GROUP_DOMAIN, []) if dom != GROUP_DOMAIN else []
        )
        if not rules:
            return None  # nothing can match; not cached, so unknown domains cost no memory
        enforcer = casbin.Enforcer(_model(rules))
        # Share the full policy's role links (users' grants) instead of copying them.
        enforcer.rm_map["g"] = self._roles
        enforcer.model["g"]["g"].rm = self._roles
        self._slices[key] = enforcer
        return enforcer

    def enforce(self, subject: str, dom: str, obj: str, act: str) -> bool:
        key = (subject, dom, obj, act)
        answer = self._answers.get(key)
        if answer is None:
            # casbin compiles matchers with ast.parse, which CPython 3.11 does not make safe
            # across threads ("AST constructor recursion depth mismatch"), and the guard runs
            # in a thread pool: a miss is worked out under a lock; answers are read without.
            with _CASBIN_LOCK:
                enforcer = self._slice(dom, obj, act)
                answer = enforcer is not None and bool(enforcer.enforce(subject, dom, obj, act))
            if len(self._answers) >= MAX_ANSWERS:
                self._answers.clear()
            self._answers[key] = answer
        return answer


async def load_rules(db: Database) -> tuple[list[Rule], list[Rule]]:
    """The ``p`` rules ``(role, domain, obj, act)`` and ``g`` rules ``(user, role, domain)``."""
    columns = (PolicyRule.ptype, PolicyRule.v0, PolicyRule.v1, PolicyRule.v2, PolicyRule.v3)
    async with db.session() as session:
        rows = (await session.execute(select(*columns).order_by(PolicyRule.id))).all()
    policies: list[Rule] = []
    groupings: list[Rule] = []
    for ptype, v0, v1, v2, v3 in rows:
        if ptype == "p" and v3:
            policies.append((v0, v1, v2, v3))
        elif ptype == "g":
            groupings.append((v0, v1, v2))
        else:
            log.warning("ignoring malformed casbin rule %r", (ptype, v0, v1, v2, v3))
    return policies, groupings


#: Enforcers running in this process: reloaded directly after a local policy change.
_running: weakref.WeakSet[PolicyEnforcer] = weakref.WeakSet()


class PolicyEnforcer:
    """Answers "may this subject do this in this domain?" from the in-memory policy.

    ``permissions`` are the registered permissions (so the guard knows each one's scope).
    Use ``PolicyEnforcer.running(runtime)`` in a process; construct it directly with
    ``load()`` in pure tests.
    """

    def __init__(
        self,
        permissions: Mapping[tuple[str, str], Permission] | None = None,
        *,
        db: Database | None = None,
        refresh_seconds: float = 300.0,
    ) -> None:
        self.permissions: dict[tuple[str, str], Permission] = dict(permissions or {})
        self.refresh_seconds = refresh_seconds
        self.version = 0  # incremented on every (re)load
        self._db = db
        self._policy = CasbinPolicy((), ())
        self._dirty = asyncio.Event()

    # -- checking -----------------------------------------------------------------------------

    def enforce(self, subject: str, domain: str, obj: str, act: str) -> bool:
        """Whether ``subject`` holds ``(obj, act)`` in ``domain`` (a desk slug or ``*``)."""
        return self._policy.enforce(subject, domain, obj, act)

    def permission(self, key: tuple[str, str]) -> Permission | None:
        return self.permissions.get(key)

    def roles_for(self, subject: str, domain: str) -> list[str]:
        """Roles ``subject`` holds in ``domain``, group-wide roles included."""
        return list(self._policy.full.get_roles_for_user_in_domain(subject, domain))

    # -- loading ------------------------------------------------------------------------------

    def load(self, policies: Iterable[Rule], groupings: Iterable[Rule]) -> None:
        """Replace the whole policy at once (a check never sees half a policy)."""
        self._policy = CasbinPolicy(policies, groupings)
        self.version += 1

    async def reload(self) -> None:
        """Read ``propdesk.casbin_rule`` again."""
        if self._db is None:
            raise RuntimeError("this PolicyEnforcer has no database to reload from")
        policies, groupings = await load_rules(self._db)
        self.load(policies, groupings)
        log.debug("policy reloaded: %d rules, %d grants", len(policies), len(groupings))

    def mark_stale(self) -> None:
        """Ask the background task to reload soon (several requests coalesce into one)."""
        self._dirty.set()

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, runtime: Runtime, *, refresh_seconds: float = 300.0
    ) -> AsyncIterator[PolicyEnforcer]:
        """Load the policy and follow changes announced on Redis until exit."""
        enforcer = cls(runtime.host.permissions(), db=runtime.db, refresh_seconds=refresh_seconds)
        subscribed = asyncio.Event()
        listener = asyncio.create_task(
            _listen(enforcer, runtime.redis_url, subscribed), name="propdesk-policy-listener"
        )
        try:
            # Subscribe before the first load, so no change slips in between.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await subscribed.wait()
            await enforcer.reload()
            refresher = asyncio.create_task(_refresh(enforcer), name="propdesk-policy-refresh")
            _running.add(enforcer)
            try:
                yield enforcer
            finally:
                _running.discard(enforcer)
                refresher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refresher
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener


async def _listen(enforcer: PolicyEnforcer, redis_url: str, subscribed: asyncio.Event) -> None:
    """Mark the enforcer stale on every message; resubscribe (and reload) after Redis errors."""
    delay = 0.5
    first = True
    while True:
        client = aioredis.from_url(redis_url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(POLICY_CHANNEL)
            subscribed.set()
            if not first:
                enforcer.mark_stale()  # messages may have been lost while disconnected
            first, delay = False, 0.5
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    enforcer.mark_stale()
        except (RedisError, OSError) as exc:
            log.warning("policy channel unavailable (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()


async def _refresh(enforcer: PolicyEnforcer) -> None:
    """Reload when marked stale, and every ``refresh_seconds`` regardless."""
    while True:
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that races the event.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(enforcer.refresh_seconds):
                await enforcer._dirty.wait()
        enforcer._dirty.clear()
        try:
            await enforcer.reload()
        except Exception:
            log.exception("reloading the access policy failed; keeping the previous one")
            await asyncio.sleep(1)
            enforcer.mark_stale()


async def publish_policy_changed(redis_url: str) -> None:
    """Tell every process that the policy changed (best effort: their enforcers reload)."""
    await publish(redis_url, POLICY_CHANNEL)


async def reload_local_enforcers() -> None:
    """Reload this process's enforcers now, so a change is visible to the next request here."""
    for enforcer in list(_running):
        try:
            await enforcer.reload()
        except Exception:
            log.exception("reloading the access policy failed")
            enforcer.mark_stale()
