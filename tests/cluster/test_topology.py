"""The production topology under failure (issue 18): two app servers sharing Redis behind
nginx, a streaming replica, two workers; app servers and workers killed with kill -9."""

import socket
import ssl
import threading
import time
import urllib.error
import urllib.request

import orjson
import psycopg
import pytest

pytestmark = pytest.mark.cluster

QUERY = "?group_by=channel&collect=count:sum"


def request(cluster, url, method="GET", body=None, headers=None, timeout=60):
    """(status, body) of an HTTP(S) request; nginx's certificate is the cluster's own."""
    context = ssl.create_default_context(cafile=str(cluster.dir / "tls" / "certificate.pem"))
    data = body if body is None or isinstance(body, bytes) else orjson.dumps(body)
    prepared = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(prepared, timeout=timeout, context=context) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def write(cluster, base, path, token, records, timeout=60):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return request(cluster, base + path, "POST", records, headers, timeout)


def read(cluster, base, path):
    status, answer = request(cluster, base + path + QUERY)
    assert status == 200, answer
    return orjson.loads(answer)["data"]


def eventually(check, seconds=20):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def create_data_set(cluster, name):
    output = cluster.perfplat("datasets", "create", "topology", name, "--published")
    return f"/data/topology/{name}", output.strip().splitlines()[-1]


def primary(cluster):
    return psycopg.connect(cluster.database_url(), autocommit=True)


def record_count(cluster, name) -> int:
    with primary(cluster) as db:
        return db.execute(
            "SELECT count(*) FROM datasets_record r JOIN datasets_dataset d "
            "ON d.id = r.data_set_id WHERE d.data_group = 'topology' AND d.data_type = %s",
            [name],
        ).fetchone()[0]


def busy_backend(cluster, prefix):
    """The application name of a perfplat process (perfplat-web-PORT, perfplat-worker-N)
    with a transaction open on the primary, if any."""
    with primary(cluster) as db:
        row = db.execute(
            "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE %s "
            "AND xact_start IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid() "
            "AND query ILIKE %s LIMIT 1",
            [f"{prefix}%", "%datasets_record%"],
        ).fetchone()
    return row[0] if row else None


def backend_gone(cluster, application_name):
    with primary(cluster) as db:
        return not db.execute(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND xact_start IS NOT NULL",
            [application_name],
        ).fetchone()


def redis_keys(cluster) -> int:
    with socket.create_connection(("127.0.0.1", cluster.ports["redis"]), timeout=5) as redis:
        redis.sendall(b"DBSIZE\r\n")
        return int(redis.recv(100).strip().lstrip(b":"))


def setting(cluster, name) -> float:
    return float(cluster.state["extra_env"][name])


def replayed(cluster, name) -> bool:
    """Whether the replica has the data set's last write."""
    version = "SELECT version FROM datasets_dataset WHERE data_group = 'topology' AND data_type = "
    statement = f"{version}'{name}'"
    return cluster.sql(statement) == cluster.sql(statement, replica=True)


def test_a_write_through_one_app_server_is_read_through_the_other_from_the_replica(cluster):
    path, token = create_data_set(cluster, "replicated")
    app_1, app_2 = cluster.app_url(1), cluster.app_url(2)
    assert write(cluster, app_1, path, token, [{"channel": "phone", "count": 2}])[0] == 200
    phone = [{"channel": "phone", "_count": 1, "count:sum": 2}]
    # The replica has replayed everything so far: app server 2 reads it there.
    assert eventually(lambda: read(cluster, app_2, path) == phone)
    # A change just replayed, so the replica is seen as current while replay is paused.
    assert write(cluster, app_1, path, token, [{"channel": "phone", "count": 3}])[0] == 200
    assert eventually(lambda: replayed(cluster, "replicated"))
    phone = [{"channel": "phone", "_count": 2, "count:sum": 5}]
    cluster.sql("SELECT pg_wal_replay_pause()", replica=True)
    paused = "SELECT pg_get_wal_replay_pause_state()"
    assert eventually(lambda: cluster.sql(paused, replica=True) == "paused")
    try:
        assert write(cluster, app_1, path, token, [{"channel": "digital", "count": 5}])[0] == 200
        # Committed on the primary, not yet replayed by the replica that app server 2 reads.
        assert read(cluster, app_2, path) == phone
        # Once the replica is more than the bound behind, app server 2 reads the primary.
        lag_bound = setting(cluster, "PERFPLAT_REPLICA_MAX_LAG_SECONDS")
        time.sleep(lag_bound + setting(cluster, "PERFPLAT_REPLICA_CHECK_SECONDS") + 0.5)
        both = [{"channel": "digital", "_count": 1, "count:sum": 5}, *phone]
        assert read(cluster, app_2, path) == both
    finally:
        cluster.sql("SELECT pg_wal_replay_resume()", replica=True)
    assert eventually(lambda: cluster.sql("SELECT pg_is_wal_replay_paused()", replica=True) == "f")
    assert read(cluster, app_2, path) == both


def test_app_servers_share_one_cache(cluster):
    path, token = create_data_set(cluster, "cached")
    assert write(cluster, cluster.app_url(1), path, token, [{"channel": "x", "count": 1}])[0] == 200
    assert eventually(lambda: replayed(cluster, "cached"))
    before = redis_keys(cluster)
    first = read(cluster, cluster.app_url(1), path)
    assert redis_keys(cluster) == before + 1
    # App server 2 finds app server 1's answer.
    assert read(cluster, cluster.app_url(2), path) == first
    assert redis_keys(cluster) == before + 1


def test_reads_keep_working_when_the_replica_stops(cluster):
    path, token = create_data_set(cluster, "no-replica")
    assert write(cluster, cluster.origin, path, token, [{"channel": "x", "count": 7}])[0] == 200
    expected = [{"channel": "x", "_count": 1, "count:sum": 7}]
    assert eventually(lambda: read(cluster, cluster.app_url(2), path) == expected)
    cluster.stop_replica()
    try:
        # Through nginx, so every process of both app servers is asked: each finds its
        # replica connection broken or refused, and answers from the primary.
        for _ in range(8):
            assert read(cluster, cluster.origin, path) == expected
            status, _ = request(cluster, cluster.origin + "/services")
            assert status == 200
            status, _ = request(cluster, cluster.origin + "/api/kpis")
            assert status == 200
    finally:
        cluster.start_replica()


def test_an_app_server_killed_during_a_write_stores_all_or_nothing_and_nginx_moves_on(cluster):
    path, token = create_data_set(cluster, "killed-write")
    records = [{"channel": f"c{i % 7}", "count": i} for i in range(150_000)]
    outcome = {}

    def send():
        outcome["status"] = write(cluster, cluster.origin, path, token, records, timeout=120)[0]

    sender = threading.Thread(target=send)
    sender.start()
    storing = eventually(lambda: busy_backend(cluster, "perfplat-web-"), seconds=60)
    assert storing, "the batch was never seen being stored"
    port = int(storing.rsplit("-", 1)[1])
    victim = 1 if port == cluster.ports["app_1"] else 2
    cluster.kill_app(victim)
    sender.join(120)
    # nginx does not send a write on once an app server has received it: it answers 502.
    assert outcome["status"] in (200, 502)
    assert eventually(lambda: backend_gone(cluster, storing))
    stored = record_count(cluster, "killed-write")
    assert stored in (0, len(records))
    assert stored == (len(records) if outcome["status"] == 200 else 0)
    try:
        # The next requests, reads and writes, all go to the other app server.
        for _ in range(6):
            status, _ = write(cluster, cluster.origin, path, token, [{"channel": "n", "count": 1}])
            assert status == 200
            assert request(cluster, cluster.origin + path + QUERY)[0] == 200
        assert record_count(cluster, "killed-write") == stored + 6
    finally:
        cluster.start_app(victim)
        cluster.wait_for_app(victim)


def multipart(fields: dict, file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "perfplat-cluster-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"'
        f"\r\nContent-Type: text/csv\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_a_worker_killed_during_an_upload_leaves_nothing_and_the_job_finishes(cluster):
    path, _ = create_data_set(cluster, "killed-upload")
    cluster.perfplat("users", "create", "loader@example.gov.uk", "--role", "platform-admin")
    personal = cluster.perfplat("users", "token", "loader@example.gov.uk").strip().splitlines()[-1]
    with primary(cluster) as db:
        data_set_id = db.execute(
            "SELECT id FROM datasets_dataset WHERE data_type = 'killed-upload'"
        ).fetchone()[0]
    rows = 60_000
    csv = "_timestamp,channel,count\r\n" + "".join(
        f"2024-{1 + i % 12:02d}-01T00:00:00Z,c{i % 5},{i}\r\n" for i in range(rows)
    )
    payload, content_type = multipart({"commit": "true"}, "big.csv", csv.encode())
    status, answer = request(
        cluster,
        f"{cluster.origin}/api/data-sets/{data_set_id}/uploads",
        "POST",
        payload,
        {"Authorization": f"Bearer {personal}", "Content-Type": content_type},
    )
    assert status == 201, answer
    upload_url = cluster.origin + orjson.loads(answer)["url"]
    storing = eventually(lambda: busy_backend(cluster, "perfplat-worker-"), seconds=60)
    assert storing, "the upload was never seen being stored"
    victim = int(storing.rsplit("-", 1)[1])
    cluster.kill_worker(victim)
    assert eventually(lambda: backend_gone(cluster, storing))
    assert record_count(cluster, "killed-upload") == 0

    def upload_status():
        _, detail = request(cluster, upload_url, headers={"Authorization": f"Bearer {personal}"})
        return orjson.loads(detail)["status"]

    cluster.start_worker(victim)
    assert eventually(lambda: upload_status() == "committed", seconds=90)
    assert record_count(cluster, "killed-upload") == rows
