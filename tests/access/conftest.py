"""Fixtures for the access tests: two fresh desks."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest

from propdesk.tenancy.context import TenantContext


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def two_desks(make_tenant: Callable[..., Awaitable[TenantContext]]) -> tuple[str, str]:
    """Two fresh desks (slugs), provisioned like ``propdesk tenants apply`` does."""
    a, b = unique("deska"), unique("deskb")
    await make_tenant(a)
    await make_tenant(b)
    return a, b
