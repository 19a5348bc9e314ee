"""The replica router (perfplat.deployment.replicas), with fake replicas whose lag the tests
choose. The real thing, streaming replication included, is in tests/cluster."""

from types import SimpleNamespace

import pytest
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from perfplat.accounts.models import User
from perfplat.datasets.models import DataSet
from perfplat.deployment import replicas

ROUTER = replicas.ReplicaRouter()


class FakeReplicas:
    """Replicas named replica_1, replica_2, ... whose lag (seconds, or an error) tests set."""

    def __init__(self, monkeypatch, **lags):
        self.lags = lags
        self.measured = []
        self.connections = {alias: SimpleNamespace(errors_occurred=False) for alias in lags}
        for connection in self.connections.values():
            connection.close = lambda: None
        monkeypatch.setattr(replicas, "_states", {})
        monkeypatch.setattr(replicas, "replica_aliases", lambda: list(self.lags))
        monkeypatch.setattr(replicas, "measure_lag", self.measure)
        monkeypatch.setattr(replicas, "connections", self.connections)

    def measure(self, alias):
        self.measured.append(alias)
        lag = self.lags[alias]
        if isinstance(lag, Exception):
            raise lag
        return lag


@pytest.fixture
def bounds(settings):
    settings.PERFPLAT_REPLICA_MAX_LAG_SECONDS = 10
    settings.PERFPLAT_REPLICA_CHECK_SECONDS = 5
    return settings


def get(path="/services", **cookies):
    request = RequestFactory().get(path)
    request.COOKIES.update(cookies)
    return request


def test_a_replica_within_the_lag_bound_is_read(monkeypatch, bounds):
    FakeReplicas(monkeypatch, replica_1=3.0)
    assert replicas.usable_replicas(now=100.0) == ["replica_1"]


def test_a_replica_beyond_the_lag_bound_is_skipped(monkeypatch, bounds):
    FakeReplicas(monkeypatch, replica_1=3.0, replica_2=10.5)
    assert replicas.usable_replicas(now=100.0) == ["replica_1"]
    assert replicas._states["replica_2"].problem == "10.5 s behind (bound 10 s)"


def test_a_replica_that_does_not_answer_is_skipped(monkeypatch, bounds):
    FakeReplicas(monkeypatch, replica_1=OperationalError("connection refused"))
    assert replicas.usable_replicas(now=100.0) == []
    assert replicas._states["replica_1"].problem == "not answering (connection refused)"


def test_a_replica_is_checked_at_most_every_check_interval(monkeypatch, bounds):
    fake = FakeReplicas(monkeypatch, replica_1=3.0)
    replicas.usable_replicas(now=100.0)
    fake.lags["replica_1"] = 60.0
    # Within the interval the last verdict stands, without asking the replica.
    assert replicas.usable_replicas(now=104.9) == ["replica_1"]
    assert fake.measured == ["replica_1"]
    assert replicas.usable_replicas(now=105.0) == []
    assert fake.measured == ["replica_1", "replica_1"]


def test_a_replica_that_catches_up_is_read_again(monkeypatch, bounds):
    fake = FakeReplicas(monkeypatch, replica_1=30.0)
    assert replicas.usable_replicas(now=100.0) == []
    fake.lags["replica_1"] = 0.5
    assert replicas.usable_replicas(now=106.0) == ["replica_1"]


def test_only_reads_without_a_pin_go_to_a_replica(monkeypatch, bounds):
    FakeReplicas(monkeypatch, replica_1=0.0)
    assert replicas.replica_for(get()) == "replica_1"
    assert replicas.replica_for(RequestFactory().post("/services")) is None
    assert replicas.replica_for(get(**{replicas.PIN_COOKIE: "1"})) is None


def test_without_replicas_everything_reads_the_primary(monkeypatch, bounds):
    FakeReplicas(monkeypatch)
    assert replicas.replica_for(get()) is None


def routed_reads(view_body=None):
    """Where a marked view's reads of a data set, a user and a session go."""
    seen = {}

    @replicas.reads_from_replica
    def view(request):
        seen["data set"] = ROUTER.db_for_read(DataSet)
        seen["user"] = ROUTER.db_for_read(User)
        seen["session"] = ROUTER.db_for_read(Session)
        if view_body:
            view_body(seen)
        return HttpResponse("ok")

    view(get())
    return seen


def test_a_marked_view_reads_public_data_from_the_replica(monkeypatch, bounds):
    FakeReplicas(monkeypatch, replica_1=0.0)
    assert routed_reads() == {"data set": "replica_1", "user": "default", "session": "default"}
    # Outside the view (the management area, the worker): the primary.
    assert ROUTER.db_for_read(DataSet) == "default"


def test_reads_after_a_write_in_the_same_request_go_to_the_primary(monkeypatch, bounds):
    FakeReplicas(monkeypatch, replica_1=0.0)

    def write_then_read(seen):
        assert ROUTER.db_for_write(DataSet) == "default"
        seen["after the write"] = ROUTER.db_for_read(DataSet)

    assert routed_reads(write_then_read)["after the write"] == "default"


def test_a_session_write_does_not_move_reads_to_the_primary(monkeypatch, bounds):
    FakeReplicas(monkeypatch, replica_1=0.0)

    def save_session(seen):
        ROUTER.db_for_write(Session)
        seen["after saving the session"] = ROUTER.db_for_read(DataSet)

    assert routed_reads(save_session)["after saving the session"] == "replica_1"


def test_a_replica_failing_during_a_request_is_skipped_and_the_view_runs_again(monkeypatch, bounds):
    fake = FakeReplicas(monkeypatch, replica_1=0.0)
    calls = []

    @replicas.reads_from_replica
    def view(request):
        alias = ROUTER.db_for_read(DataSet)
        calls.append(alias)
        if alias == "replica_1":
            fake.connections["replica_1"].errors_occurred = True
            raise OperationalError("server closed the connection unexpectedly")
        return HttpResponse("from the primary")

    response = view(get())
    assert response.content == b"from the primary"
    assert calls == ["replica_1", "default"]
    state = replicas._states["replica_1"]
    assert not state.usable
    assert state.problem == "failed during a request (server closed the connection unexpectedly)"


def test_an_error_of_the_primary_is_not_retried(monkeypatch, bounds):
    FakeReplicas(monkeypatch, replica_1=0.0)

    @replicas.reads_from_replica
    def view(request):
        raise OperationalError("the primary is down")

    with pytest.raises(OperationalError):
        view(get())
    assert replicas._states["replica_1"].usable


def pinned(monkeypatch, request, **lags):
    FakeReplicas(monkeypatch, **lags)
    middleware = replicas.PinToPrimaryMiddleware(lambda request: HttpResponse("done"))
    return middleware(request).cookies.get(replicas.PIN_COOKIE)


def test_a_change_by_a_signed_in_person_pins_their_reads_to_the_primary(monkeypatch, bounds):
    request = RequestFactory().post("/manage/services/new")
    request.COOKIES["sessionid"] = "abc"
    cookie = pinned(monkeypatch, request, replica_1=0.0)
    # The lag bound, one check interval, and a second for rounding.
    assert cookie["max-age"] == 16
    assert cookie["httponly"] is True


def test_programs_without_a_session_and_reads_are_not_pinned(monkeypatch, bounds):
    assert pinned(monkeypatch, RequestFactory().post("/data/a/b"), replica_1=0.0) is None
    request = get()
    request.COOKIES["sessionid"] = "abc"
    assert pinned(monkeypatch, request, replica_1=0.0) is None


def test_nobody_is_pinned_without_replicas(monkeypatch, bounds):
    request = RequestFactory().post("/manage/services/new")
    request.COOKIES["sessionid"] = "abc"
    assert pinned(monkeypatch, request) is None


def test_the_read_pipeline_queries_the_database_the_request_reads_from(
    monkeypatch, bounds, make_data_set
):
    from django.db import connections as real_connections

    from perfplat.datasets import engine
    from perfplat.datasets.queries import parse_query

    data_set, _ = make_data_set(published=True)
    FakeReplicas(monkeypatch, replica_1=0.0)
    asked = []

    class Recording:
        def __getitem__(self, alias):
            asked.append(alias)
            return real_connections["default"]  # the test database stands in for the replica

    monkeypatch.setattr(engine, "connections", Recording())
    query = parse_query({"group_by": ["channel"]}, raw_queries_allowed=False, now=0)

    @replicas.reads_from_replica
    def view(request):
        return HttpResponse(str(engine.run_query(data_set, query)))

    assert view(get()).content == b"[]"
    assert asked and set(asked) == {"replica_1"}
    asked.clear()
    engine.run_query(data_set, query)
    assert set(asked) == {"default"}
