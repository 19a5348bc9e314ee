"""Reads from PostgreSQL streaming replicas (DATABASE_REPLICA_URLS; settings name them
`replica_1`, `replica_2`, ...).

Which reads may go to a replica is decided per request, never per query: a view marked
`reads_from_replica` (the public pages, the read API, the KPI API) runs with one replica chosen
for the whole request, so everything it reads comes from one consistent copy: it reads a data
set's `version` before its records, so a cache entry is never keyed by a newer version than
the records it holds. Everything else reads the primary: the management area, the worker,
commands, and who a person is (sessions, users), so signing in or out takes effect at once.

A replica is used while it is up and no more than PERFPLAT_REPLICA_MAX_LAG_SECONDS behind,
which each process checks at most every PERFPLAT_REPLICA_CHECK_SECONDS. One that fails during a
request is marked down until its next check, and the request is answered again from the
primary: a person never sees an error because of a replica.

Reading your own writes: a write during a request sends the rest of its reads to the primary
(ReplicaRouter.db_for_write), and a person who has just changed something (a POST or other
change with a session) reads the primary for the lag bound and one check interval more
(PinToPrimaryMiddleware's cookie). Programs using tokens keep no cookie; they read a replica,
at most the lag bound behind.
"""

import functools
import logging
import random
import time
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)

PRIMARY = "default"
PIN_COOKIE = "perfplat_primary"
# Who a person is, the work queue and a database cache (PERFPLAT_CACHE=database) always come
# from the primary; writing to them is not a change to the data a page shows.
PRIMARY_ONLY_APPS = frozenset({"sessions", "accounts", "axes", "django_tasks_db", "django_cache"})
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

# Seconds a replica is behind the primary. A server that is not in recovery is the primary (or
# a promoted replica): 0. A replica streaming from the primary that has replayed all it
# received: 0 (an idle primary sends nothing, so the age of the last replayed change says
# nothing). Otherwise (replaying, or not streaming at all): the age of the last change it
# replayed, or "very far" when it has replayed none.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
         AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9)
END
"""

# The replica this request reads from; None: the primary.
_read_from: ContextVar[str | None] = ContextVar("perfplat_read_from", default=None)


@dataclass(frozen=True)
class ReplicaState:
    usable: bool
    checked_at: float  # time.monotonic() of the check
    lag: float | None = None  # seconds behind, when it answered
    problem: str = ""  # why it is not usable


# Per process: the last check of each replica.
_states: dict[str, ReplicaState] = {}


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


def measure_lag(alias: str) -> float:
    """Seconds the replica `alias` is behind the primary; raises DatabaseError when it does not
    answer."""
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        return float(cursor.fetchone()[0])


def _close(alias: str) -> None:
    try:
        connections[alias].close()
    except DatabaseError:
        pass  # already broken: the next use opens a new one


def check_replica(alias: str, now: float) -> ReplicaState:
    """Measure the replica now and remember the verdict until the next check."""
    try:
        lag = measure_lag(alias)
    except DatabaseError as error:
        _close(alias)
        state = ReplicaState(False, now, problem=f"not answering ({error})".strip())
    else:
        bound = settings.PERFPLAT_REPLICA_MAX_LAG_SECONDS
        if lag > bound:
            state = ReplicaState(False, now, lag, f"{lag:.1f} s behind (bound {bound:g} s)")
        else:
            state = ReplicaState(True, now, lag)
    _remember(alias, state)
    return state


def mark_down(alias: str, problem: str) -> None:
    """Stop using a replica until its next check."""
    _close(alias)
    _remember(alias, ReplicaState(False, time.monotonic(), problem=problem))


def _remember(alias: str, state: ReplicaState) -> None:
    before = _states.get(alias)
    if before is not None and before.usable != state.usable:
        if state.usable:
            logger.warning("Replica %s is used again (%.1f s behind)", alias, state.lag or 0)
        else:
            logger.warning("Replica %s is skipped: %s", alias, state.problem)
    _states[alias] = state


def usable_replicas(now: float | None = None) -> list[str]:
    """The replicas to read from now, each checked if its last check is old enough."""
    now = time.monotonic() if now is None else now
    interval = settings.PERFPLAT_REPLICA_CHECK_SECONDS
    usable = []
    for alias in replica_aliases():
        state = _states.get(alias)
        if state is None or now - state.checked_at >= interval:
            state = check_replica(alias, now)
        if state.usable:
            usable.append(alias)
    return usable


def replica_for(request) -> str | None:
    """The replica this request may read from, or None for the primary."""
    if request.method not in SAFE_METHODS or PIN_COOKIE in request.COOKIES:
        return None
    if not replica_aliases():
        return None
    usable = usable_replicas()
    return random.choice(usable) if usable else None  # noqa: S311 - spreading load only


def reads_from_replica(view):
    """Let a view that only reads public data read it from a replica (see the module's
    docstring). Should the replica fail, the view runs again on the primary."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        alias = replica_for(request)
        if alias is None:
            return view(request, *args, **kwargs)
        token = _read_from.set(alias)
        try:
            return view(request, *args, **kwargs)
        except (OperationalError, InterfaceError) as error:
            if not connections[alias].errors_occurred:
                raise  # the primary's problem, not the replica's
            mark_down(alias, f"failed during a request ({error})")
            _read_from.set(None)
            return view(request, *args, **kwargs)
        finally:
            _read_from.reset(token)

    return wrapper


class ReplicaRouter:
    """Django's database router: reads go where this request reads from (the primary unless
    `reads_from_replica` chose a replica); writes and migrations go to the primary."""

    def db_for_read(self, model, **hints):
        alias = _read_from.get()
        if alias is None or model._meta.app_label in PRIMARY_ONLY_APPS:
            return PRIMARY
        return alias

    def db_for_write(self, model, **hints):
        if model._meta.app_label not in PRIMARY_ONLY_APPS:
            # The rest of this request reads what it wrote, which only the primary has yet.
            _read_from.set(None)
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # every database holds the same data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class PinToPrimaryMiddleware:
    """After a person changes something, their reads go to the primary for a while (a cookie
    for the lag bound and one check interval), so they see their change at once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method not in SAFE_METHODS
            and response.status_code < 400
            and replica_aliases()
            and self._has_session(request, response)
        ):
            seconds = settings.PERFPLAT_REPLICA_MAX_LAG_SECONDS
            seconds += settings.PERFPLAT_REPLICA_CHECK_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=int(seconds) + 1,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response

    @staticmethod
    def _has_session(request, response) -> bool:
        name = settings.SESSION_COOKIE_NAME
        return name in request.COOKIES or name in response.cookies
