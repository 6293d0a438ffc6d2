"""What makes two requests "the same" under an Idempotency-Key, and what a key must be."""

from __future__ import annotations

import pytest

from propdesk.errors import InvalidInput
from propdesk.idempotency.service import HEADER, check_key, fingerprint


def test_a_money_moving_request_without_a_key_is_refused_naming_the_header() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_key(None, required=True)
    assert [p.field for p in refused.value.problems] == [HEADER]
    assert check_key(None, required=False) is None


@pytest.mark.parametrize("key", ["x" * 256, "line\nbreak"])
def test_a_bad_key_is_refused(key: str) -> None:
    with pytest.raises(InvalidInput):
        check_key(key, required=True)


def test_the_fingerprint_covers_method_path_and_body() -> None:
    base = fingerprint("POST", "/api/orders", b'{"product":"a"}')
    assert base == fingerprint("post", "/api/orders", b'{"product":"a"}')
    assert base != fingerprint("POST", "/api/orders", b'{"product":"b"}')
    assert base != fingerprint("POST", "/api/refunds", b'{"product":"a"}')
    assert base != fingerprint("PUT", "/api/orders", b'{"product":"a"}')
