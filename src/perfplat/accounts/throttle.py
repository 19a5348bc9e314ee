"""Counting attempts in the cache, for the forms django-axes does not guard: changing a password
(wrong current passwords) and asking for a password reset email.

A fixed window per key: the first attempt starts it, and `limit` attempts are allowed within
`seconds`. With the default per-process memory cache each process counts apart (so the limit is
per process); PERFPLAT_CACHE=database or a Redis URL makes it one count for all.
"""

import hashlib

from django.core.cache import cache

# Wrong current passwords when changing one: per account.
PASSWORD_CHANGE_FAILURES = (5, 15 * 60)
# Password reset emails asked for: per email address, and per IP address.
RESET_PER_EMAIL = (3, 3600)
RESET_PER_ADDRESS = (20, 3600)


def _name(scope: str, key: str) -> str:
    return f"throttle:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"


def count(scope: str, key: str, seconds: int) -> int:
    """Count one attempt; returns how many were made in the current window."""
    name = _name(scope, key)
    if cache.add(name, 1, seconds):
        return 1
    try:
        return cache.incr(name)
    except ValueError:
        # Expired between the two calls.
        cache.set(name, 1, seconds)
        return 1


def attempts(scope: str, key: str) -> int:
    """How many attempts were counted in the current window."""
    return cache.get(_name(scope, key), 0)
