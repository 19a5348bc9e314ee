"""The cache the public pages are rendered from, and the HTTP caching headers of their answers.

What is cached: the results of queries over data sets (each module's read API query, each
standard data set's monthly sums) and what is computed from them (KPIs, roll-ups, the rows of
the services list). Every key holds what the result depends on: each data set's identity (id
and creation time) and its `version`, which every write bumps, so a write makes new keys and the
old entries are never read again (they expire after CACHE_SECONDS). Keys also hold the published
dashboard version and the period or time the result was computed for. No entry is ever deleted
or invalidated by hand, so processes that do not share a cache (gunicorn workers with a local
memory cache each) still never serve a stale result.

HTTP: HTML pages read `request.user` (the header's sign-in or sign-out item), so they vary by
cookie. A visitor who is not signed in gets `Cache-Control: public, max-age=N` and
`Vary: Cookie`; a signed-in user's page holds their CSRF token and is `private, no-cache`. Every
answer carries an ETag (a hash of its body) and a matching If-None-Match is answered 304.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from importlib.metadata import version as package_version
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag

# Cached values are pickled page data (dataclasses): a release reads only its own entries, so a
# shared cache (database, Redis) never hands one release another's shapes.
PREFIX = f"public:{package_version('perfplat')}:"
_MISSING = object()
logger = logging.getLogger(__name__)


def cache():
    return caches[settings.PERFPLAT_PUBLIC_CACHE]


def key_of(parts: tuple) -> str:
    """A cache key for a tuple of plain values (their repr is stable)."""
    return PREFIX + hashlib.sha256(repr(parts).encode()).hexdigest()


def cached(
    parts: tuple, compute: Callable[[], Any], keep: Callable[[Any], bool] | None = None
) -> Any:
    """The cached result for `parts`, computing and storing it when missing (only if `keep`
    says so, when given). A cache that fails (a shared Redis that is down) is left alone for
    a few seconds, and results are computed without it meanwhile."""
    key = key_of(parts)
    store = cache()
    found = _MISSING if _cache_resting() else _safely(store.get, key, _MISSING)
    if found is _MISSING:
        found = compute()
        if keep is None or keep(found):
            _safely(store.set, key, found, settings.PERFPLAT_PUBLIC_CACHE_SECONDS)
    return found


# After a cache failure, when (time.monotonic()) to try the cache again.
_rest_until = 0.0
REST_SECONDS = 5.0


def _cache_resting() -> bool:
    return time.monotonic() < _rest_until


def _safely(operation, *args):
    global _rest_until
    if _cache_resting():
        return _MISSING
    try:
        return operation(*args)
    except Exception as error:  # noqa: BLE001 - any cache failure: answer without the cache
        _rest_until = time.monotonic() + REST_SECONDS
        logger.warning("The cache failed (%s); not using it for %g s", error, REST_SECONDS)
        return _MISSING


def data_set_key(data_set) -> tuple:
    """What a data set's query results depend on: which data set it is (its id, and its
    creation time, in case a database is recreated under a long-lived cache) and its version."""
    created = data_set.created_at.timestamp() if data_set.created_at else 0
    return (data_set.pk, created, data_set.version)


def with_http_caching(request, response, *, shared: bool = True):
    """Add Cache-Control, Vary and ETag to a 200 answer; a 304 when the client has it already.
    `shared`: the body is the same for everyone (the JSON and CSV twins) rather than a page
    whose header depends on who is signed in."""
    if response.status_code != 200:
        return response
    max_age = settings.PERFPLAT_PAGE_CACHE_MAX_AGE
    user = getattr(request, "user", None)
    signed_in = not shared and user is not None and user.is_authenticated
    if signed_in:
        response["Cache-Control"] = "private, no-cache"
    else:
        response["Cache-Control"] = f"public, max-age={max_age}"
    if not shared:
        patch_vary_headers(response, ["Cookie"])
    set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response)
