"""Simulators of outside services: what ``propdesk_register_simulators`` returns.

A plugin that integrates a vendor (a trading platform, a PSP, a KYC provider) ships a simulator
speaking the vendor's real wire protocol. Registered, it lets ``propdesk demo`` (and
``propdesk chaos``) run a desk on it with nothing outside the machine:

    simulator = cls(SimulatorSetup(desk="aurora_fx", propdesk_url=..., env_prefix=...))
    simulator.start()                       # serving on a free local port, ready
    found = simulator.desk_settings()       # the desk's [plugins.<plugin>] table and secrets
    ...                                     # drive it through the roles below
    simulator.stop()

One instance serves one desk, as a vendor's account serves one firm: its state (accounts,
payments, applicants) lives in memory and is gone when it stops.

What the demo does as the vendor's other party (a trader trades, pays a checkout, sends an
identity document) is a role: a simulator implements the roles of its service, each a Protocol
below, with ``async def`` methods that talk to it over its control API.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar, runtime_checkable

__all__ = [
    "TRADER_PROFILES",
    "DeskSettings",
    "KycSimulator",
    "PaymentSimulator",
    "PayoutRailSimulator",
    "PlatformSimulator",
    "ServedSimulator",
    "Simulator",
    "SimulatorSetup",
]

#: The trading styles a platform simulator's traders know: ``steady`` (small positions, mostly
#: flat), ``gambler`` (large ones, random directions), ``breacher`` (against the trend until a
#: loss limit breaks) and ``passer`` (with the trend, banking profits, until well up).
TRADER_PROFILES = ("steady", "gambler", "breacher", "passer")


@dataclass(frozen=True)
class SimulatorSetup:
    """What a simulator needs to know about the desk it serves."""

    #: The desk's slug.
    desk: str
    #: Where the Propdesk web app answers (webhooks go there); None: nothing to call back.
    propdesk_url: str | None = None
    #: The environment variables holding its secrets are named with this prefix, so that two
    #: desks' simulators never share one.
    env_prefix: str = "PROPDESK_SIM_"
    #: The platform groups the desk's products name (a platform simulator creates them).
    groups: tuple[str, ...] = ()
    #: 0: prices move only when told; otherwise the market runs this many times its usual pace.
    market_speed: float = 0.0


@dataclass(frozen=True)
class DeskSettings:
    """A desk's settings of the simulator's plugin, pointing at the running simulator."""

    #: The ``[plugins.<plugin>]`` table; secrets are ``{"env": NAME}`` references.
    settings: dict[str, Any]
    #: The value of each variable those references name, to set where Propdesk runs.
    env: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Simulator(Protocol):
    """A vendor's service on a local port, for one desk (``cls(setup)``; no I/O until start)."""

    #: Stable lowercase identifier (``mt5``, ``stripe``); duplicates abort loading it.
    code: ClassVar[str]
    #: Name shown in the demo.
    display_name: ClassVar[str]
    #: The plugin whose settings table it fills (``mt5``, ``psp_stripe``).
    plugin: ClassVar[str]

    def __init__(self, setup: SimulatorSetup) -> None: ...

    @property
    def url(self) -> str:
        """Where it serves (once started)."""
        ...

    def start(self) -> None:
        """Serve in the background (a thread of this process); ready on return."""
        ...

    def stop(self) -> None:
        """Stop serving and forget everything; harmless twice."""
        ...

    def desk_settings(self) -> DeskSettings:
        """The plugin's settings that point a desk at it (once started)."""
        ...


@runtime_checkable
class PlatformSimulator(Simulator, Protocol):
    """A trading platform: accounts the desk's adapter creates, and traders trading them."""

    #: The platform adapter code its accounts belong to (``ChallengeRow.account`` is
    #: ``<platform>:<login>``).
    platform: ClassVar[str]

    async def start_trader(self, login: str, profile: str) -> None:
        """A simulated trader starts trading account ``login`` in one of ``TRADER_PROFILES``
        (another profile on that account stops)."""
        ...


@runtime_checkable
class PaymentSimulator(Simulator, Protocol):
    """A PSP: the trader pays the hosted checkouts the desk's provider created."""

    #: The payment provider code the desk's orders name.
    payment_provider: ClassVar[str]

    async def pay_checkout(self, checkout_url: str) -> None:
        """The trader pays at ``checkout_url`` (the order's); the PSP's webhook follows."""
        ...


@runtime_checkable
class KycSimulator(Simulator, Protocol):
    """An identity-verification provider: the trader sends documents, the provider decides."""

    #: The KYC provider code a trader's check names.
    kyc_provider: ClassVar[str]

    async def approve_applicant(self, applicant: str) -> None:
        """The applicant submits and is approved; the provider's webhook follows."""
        ...


@runtime_checkable
class PayoutRailSimulator(Simulator, Protocol):
    """A payout rail's far side: where a trader is paid."""

    #: The payout rail code a payout request names.
    rail: ClassVar[str]

    async def payout_destination(self, email: str) -> dict[str, Any]:
        """A destination for the trader of ``email`` on the simulator (made if need be), valid
        against the rail's ``destination_schema``."""
        ...


class _Served(Protocol):
    url: str


R = TypeVar("R", bound=_Served)


class ServedSimulator(Generic[R]):
    """Base of a simulator served by a context manager (its ``running_simulator``): subclasses
    give ``serve()`` and their settings; ``running`` is what the context manager yielded."""

    code: ClassVar[str]
    display_name: ClassVar[str]
    plugin: ClassVar[str]

    def __init__(self, setup: SimulatorSetup) -> None:
        self.setup = setup
        self._stack = ExitStack()
        self._running: R | None = None

    def serve(self) -> AbstractContextManager[R]:
        raise NotImplementedError

    @property
    def running(self) -> R:
        if self._running is None:
            raise RuntimeError(f"the {self.code} simulator is not running")
        return self._running

    @property
    def url(self) -> str:
        return self.running.url

    def env_name(self, what: str) -> str:
        """The environment variable of one of its secrets, e.g. ``PROPDESK_SIM_MT5_PASSWORD``."""
        return f"{self.setup.env_prefix}{what}".upper()

    def start(self) -> None:
        if self._running is None:
            self._running = self._stack.enter_context(self.serve())

    def stop(self) -> None:
        self._running = None
        self._stack.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
