"""The production topology (scripts/cluster), started once for these tests.

They run on the suite's PostgreSQL run only (the cluster has PostgreSQL servers of its own; on
the SQLite run they would only repeat). Without nginx, Redis or PostgreSQL installed they are
skipped, except under CI (scripts/test sets PERFPLAT_REQUIRE_CLUSTER=1), where that fails.
"""

import os
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from cluster import Cluster, ClusterError, check_installed

# Shorter than production's (10 s and 5 s), so a lagging replica is seen quickly.
MAX_LAG_SECONDS = 5
CHECK_SECONDS = 1


@pytest.fixture(scope="session")
def cluster():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("the cluster tests run on the PostgreSQL run (scripts/with-postgres)")
    try:
        check_installed()
    except ClusterError as error:
        if os.environ.get("PERFPLAT_REQUIRE_CLUSTER") == "1":
            pytest.fail(f"{error}: under CI that is a failure", pytrace=False)
        pytest.skip(str(error))
    running = Cluster(Path(tempfile.mkdtemp(prefix="perfplat-cluster-test.")))
    try:
        running.start(
            extra_env={
                "PERFPLAT_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
                "PERFPLAT_REPLICA_CHECK_SECONDS": str(CHECK_SECONDS),
                # Job recovery (the worker heartbeat): a killed worker's job is retried soon.
                "PERFPLAT_WORKER_TIMEOUT_SECONDS": "5",
            }
        )
        yield running
    finally:
        running.stop()
