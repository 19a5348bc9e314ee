"""Counting without a database write per event.

Each server process adds events to an in-memory tally (a dict under a lock) and a background
thread flushes it every PERFPLAT_BEACON_FLUSH_SECONDS (1 s): one transaction of upserts
(`count = count + n`) of the rows keyed (service, step, hour, kind) that changed, so services
never share a row and a busy one only shares its own rows between processes. When the process
stops gracefully (gunicorn's SIGTERM, Ctrl+C, any normal exit) an atexit hook flushes what is
left; a process killed outright (kill -9) loses at most the events of its last second.

After storing its counts, a process writes the days it counted into the service's completion
data set (services.write_completion) at most every PERFPLAT_BEACON_DATA_SET_SECONDS per
service, and always on the final flush, so the data set has every count within a second of a
graceful stop.

The services' beacons (slug -> steps, origins) are read from the database at most every
PERFPLAT_BEACON_CONFIG_SECONDS per process: a changed step list takes effect within that.
"""

import atexit
import logging
import os
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from .events import Route
from .models import BeaconCount

logger = logging.getLogger(__name__)

# Table and columns are fixed names; every value is a bound parameter.
UPSERT = (
    "INSERT INTO beacon_beaconcount (service_id, step, hour, kind, count) "
    "VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (service_id, step, hour, kind) "
    "DO UPDATE SET count = beacon_beaconcount.count + excluded.count"
)


class Tally:
    """Events not yet stored, by (service id, step, hour, kind). Safe to use from any thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[tuple, int] = {}

    def add(self, key: tuple, events: int = 1) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + events

    def take(self) -> dict[tuple, int]:
        """Everything counted so far, leaving the tally empty."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    def put_back(self, counts: dict[tuple, int]) -> None:
        """Counts that could not be stored, to be tried again with the next flush."""
        with self._lock:
            for key, events in counts.items():
                self._counts[key] = self._counts.get(key, 0) + events


class Routes:
    """The beacons of every service, read at most every PERFPLAT_BEACON_CONFIG_SECONDS."""

    def __init__(self):
        self._lock = threading.Lock()
        self._routes: dict[str, Route] | None = None
        self._loaded_at = 0.0

    def get(self, slug: str) -> Route | None:
        routes = self._routes
        if routes is None or (
            time.monotonic() - self._loaded_at >= settings.PERFPLAT_BEACON_CONFIG_SECONDS
        ):
            routes = self._load()
        return routes.get(slug)

    def _load(self) -> dict[str, Route]:
        from .services import routes

        with self._lock:
            if self._routes is not None and (
                time.monotonic() - self._loaded_at < settings.PERFPLAT_BEACON_CONFIG_SECONDS
            ):
                return self._routes  # another thread has just loaded them
            try:
                self._routes = routes()
            except Exception:
                # Beacon requests are answered whatever happens; with the database away the
                # events count as sent to unknown services until it is back. The production
                # path has no request signals to drop a broken connection: drop it here.
                logger.exception("Could not read the journey beacons")
                connection.close_if_unusable_or_obsolete()
                if self._routes is None:
                    return {}
            self._loaded_at = time.monotonic()
            return self._routes

    def forget(self) -> None:
        """Read them again at the next event (this process changed one)."""
        self._routes = None


def store(counts: dict[tuple, int]) -> None:
    """Add counts to their rows, in one transaction. Rows are written in key order so that two
    processes flushing at once take their row locks in the same order (no deadlock)."""
    rows = [(*key, events) for key, events in sorted(counts.items())]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(UPSERT, rows)


class Flusher:
    """Stores the tally: every PERFPLAT_BEACON_FLUSH_SECONDS from a background thread started
    with the first event of each process, and once more when the process exits."""

    def __init__(self, tally: Tally):
        self.tally = tally
        self._flush_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._pid: int | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # Days counted but not yet written into the completion data set, per service id.
        self.pending: dict[int, set[int]] = {}
        self._written_at: dict[int, float] = {}

    def ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            # A new process (or a fork): its own thread, its own exit hook.
            self._pid = os.getpid()
            self._stopping = threading.Event()
            seconds = settings.PERFPLAT_BEACON_FLUSH_SECONDS
            if seconds <= 0:
                return  # flushed by whoever calls flush() (the tests)
            self._thread = threading.Thread(
                target=self._run, args=(seconds,), name="beacon-flusher", daemon=True
            )
            self._thread.start()
            atexit.register(self.stop)

    def _run(self, seconds: float) -> None:
        while not self._stopping.wait(seconds):
            try:
                # Drops a connection that broke or outlived CONN_MAX_AGE, as requests do.
                close_old_connections()
                self.flush()
            except Exception:
                logger.exception("Could not flush the journey beacon's counts")

    def stop(self) -> None:
        """Stop the thread and flush everything, completion data sets included."""
        self._stopping.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        try:
            self.flush(final=True)
        except Exception:
            logger.exception("Could not flush the journey beacon's counts on exit")

    def flush(self, final: bool = False) -> None:
        """Store the tally; then write the counted days into the completion data sets whose
        last write from this process is older than PERFPLAT_BEACON_DATA_SET_SECONDS (all of
        them when `final`). Counts that cannot be stored go back into the tally."""
        with self._flush_lock:
            counts = self.tally.take()
            if counts:
                try:
                    store(counts)
                except Exception:
                    self.tally.put_back(counts)
                    raise
                for (service_id, _step, hour, kind), _events in counts.items():
                    if kind == BeaconCount.COUNTED:
                        self.pending.setdefault(service_id, set()).add(hour - hour % 86400)
            self._write_completion(final)

    def _write_completion(self, final: bool) -> None:
        from .services import write_completion

        now = time.monotonic()
        every = settings.PERFPLAT_BEACON_DATA_SET_SECONDS
        for service_id, days in list(self.pending.items()):
            written = self._written_at.get(service_id)
            if not final and written is not None and now - written < every:
                continue
            try:
                write_completion(service_id, days)
            except Exception:
                # Tried again at the next flush; the counts themselves are stored.
                logger.exception("Could not write the beacon's counts of service %s", service_id)
                continue
            del self.pending[service_id]
            self._written_at[service_id] = now


tally = Tally()
routes = Routes()
flusher = Flusher(tally)


def count(key: tuple) -> None:
    """Count one event under (service id, step, hour, kind)."""
    tally.add(key)
    flusher.ensure_running()


def reset() -> None:
    """Forget everything not yet stored (for tests)."""
    tally.take()
    routes.forget()
    flusher.pending.clear()
    flusher._written_at.clear()
