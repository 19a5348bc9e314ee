"""Fixtures shared by every suite. Data is built through the same functions users call."""

import pytest

from helpers import ApiClient
from perfplat.datasets.services import DataSetSettings, create_data_set

# The `world` fixture: a small registry with a user of every role.
# `source`, `smtp`, `collecting` and `typed`: local HTTP and SMTP servers and a typed data set
# for the collector and notification tests.
pytest_plugins = ["registry_fixtures", "collector_fixtures"]


@pytest.fixture
def api(client):
    return ApiClient(client)


@pytest.fixture
def make_data_set(db):
    """Create a data set; returns (data_set, token)."""

    def make(group="test-service", data_type="events", **settings):
        return create_data_set(group, data_type, settings=DataSetSettings(**settings))

    return make


@pytest.fixture
def data_set(make_data_set):
    """A published data set that allows raw queries, with its token."""
    return make_data_set(published=True, raw_queries_allowed=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    # Throttle counts (accounts.throttle) live in the cache: each test starts with none.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _two_factor_not_required(settings):
    # Most tests sign admins in with force_login, as if they had given both factors; the tests
    # of two-factor sign-in (test_two_factor.py) and the browser tests turn the rule on.
    settings.PERFPLAT_TWO_FACTOR_REQUIRED = False


@pytest.fixture(autouse=True)
def _beacon_counts_flushed_by_tests(settings):
    """No background thread stores the journey beacon's counts in the test process: tests
    call perfplat.beacon.counting.flusher.flush() themselves. Each test starts with nothing
    counted and the beacons read afresh."""
    from perfplat.beacon import counting

    settings.PERFPLAT_BEACON_FLUSH_SECONDS = 0
    counting.reset()
    yield
    counting.reset()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Argon2 is deliberately slow; tests make many users. test_accounts checks the real setting.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
