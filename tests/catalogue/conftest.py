"""Fixtures for the catalogue tests: the sample product and a fresh desk."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from catalogue_samples import load_two_step

from propdesk.tenancy.context import TenantContext


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def two_step() -> dict[str, Any]:
    """A fresh copy of the sample product (tests may change it)."""
    return copy.deepcopy(load_two_step())


@pytest.fixture
async def desk(make_tenant: Callable[..., Awaitable[TenantContext]]) -> TenantContext:
    return await make_tenant(unique("cat"))
