"""Trading platforms: the contract every platform adapter implements (``contract``).

The adapters themselves ship as plugins (``propdesk-mt5``, ...); the core only defines what it
asks of them. ``propdesk.testing.platform.RecordingPlatform`` is an in-memory implementation
for tests.
"""

from propdesk.platforms.contract import (
    MAX_REFERENCE_LENGTH,
    AccountNotFound,
    AccountSpec,
    AccountState,
    BalanceResult,
    EventBatch,
    OpenedAccount,
    PlatformAdapter,
    PlatformError,
    PlatformEvent,
    Position,
    Refused,
    TemporarilyUnavailable,
    check_reference,
)

__all__ = [
    "MAX_REFERENCE_LENGTH",
    "AccountNotFound",
    "AccountSpec",
    "AccountState",
    "BalanceResult",
    "EventBatch",
    "OpenedAccount",
    "PlatformAdapter",
    "PlatformError",
    "PlatformEvent",
    "Position",
    "Refused",
    "TemporarilyUnavailable",
    "check_reference",
]
