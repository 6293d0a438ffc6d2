"""RecordingPlatform passes the platform contract suite that every platform adapter must pass."""

from __future__ import annotations

import pytest

from propdesk.testing.platform_contract import PlatformContract, PlatformHarness, RecordingHarness


class TestRecordingPlatform(PlatformContract):
    @pytest.fixture
    async def harness(self) -> PlatformHarness:
        return RecordingHarness()


def test_the_suite_runs_only_through_its_subclasses(request: pytest.FixtureRequest) -> None:
    module = request.node.getparent(pytest.Module)
    assert module is not None
    classes = [node.name for node in module.collect() if isinstance(node, pytest.Class)]
    assert classes == ["TestRecordingPlatform"]  # imported here, PlatformContract is not collected
