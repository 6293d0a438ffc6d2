"""Trader passwords that every platform accepts."""

from __future__ import annotations

import secrets
import string

#: Specials every platform's password rules accept (MT5 wants one; some bridges refuse quotes).
SPECIALS = "#@!$%&*"


def trader_password(length: int = 12) -> str:
    """A random password of ``length`` (8 to 16) characters with a lower-case letter, an
    upper-case letter, a digit and a special: MT5's rule, the strictest of the platforms."""
    if not 8 <= length <= 16:
        raise ValueError(f"a trader password has 8 to 16 characters, not {length}")
    pools = (string.ascii_lowercase, string.ascii_uppercase, string.digits, SPECIALS)
    chars = [secrets.choice(pool) for pool in pools]
    chars += [secrets.choice(string.ascii_letters + string.digits) for _ in range(length - 4)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
