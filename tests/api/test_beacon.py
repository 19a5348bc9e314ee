"""The journey beacon (SPEC.md section 15): its API, its events through the whole middleware
stack (Django's test client), the counts each process stores, and the completion data set they
become. Events are counted at a fixed moment: 15 January 2025, 10:30 UTC."""

import pytest

from helpers import assert_error, body, call
from perfplat.audit.models import AuditEntry
from perfplat.beacon import counting, events
from perfplat.beacon.middleware import PIXEL
from perfplat.beacon.models import Beacon, BeaconCount
from perfplat.dashboards.services import publish_directly
from perfplat.datasets.models import DataSet, Record, WriteBatch
from perfplat.datasets.periods import parse_datetime
from perfplat.datasets.services import source_of
from perfplat.datasets.writes import stored_record

NOW = parse_datetime("2025-01-15T10:30:00Z")
HOUR = parse_datetime("2025-01-15T10:00:00Z")
DAY = parse_datetime("2025-01-15T00:00:00Z")
SITE = "https://www.example.gov.uk"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
STEPS = ["start", "details", "done"]


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(events, "current_time", lambda: NOW)


@pytest.fixture
def beacon(world):
    from perfplat.beacon.services import configure

    return configure(None, world.service, STEPS, [SITE])


def send(client, step, service="road-tax", content_type="application/json", body=None, **headers):
    headers = {"HTTP_ORIGIN": SITE, "HTTP_USER_AGENT": CHROME} | headers
    data = body if body is not None else b'{"step": "%s"}' % step.encode()
    return client.generic("POST", f"/beacon/{service}", data, content_type=content_type, **headers)


def pixel(client, step, service="road-tax", **headers):
    headers = {"HTTP_REFERER": f"{SITE}/apply/{step}", "HTTP_USER_AGENT": CHROME} | headers
    return client.get(f"/beacon/{service}/{step}.gif", **headers)


def stored_counts() -> dict:
    return {
        (row.service_id, row.step, row.hour, row.kind): row.count
        for row in BeaconCount.objects.all()
    }


def completion(beacon) -> list[dict]:
    return [
        {k: v for k, v in stored_record(row).items() if k != "_id"}
        for row in Record.objects.filter(data_set=beacon.data_set).order_by("timestamp")
    ]


# the API


def test_putting_steps_and_origins_turns_the_beacon_on(world, api):
    token = world.token(world.editor)
    response = call(
        api.client,
        "PUT",
        "/api/services/road-tax/beacon",
        token,
        {"steps": STEPS, "origins": [f"{SITE}/", "HTTP://Other.Example:80"]},
    )
    assert response.status_code == 200, response.content
    beacon = Beacon.objects.get(service=world.service)
    reply = body(response)
    assert reply["updated_at"]
    del reply["updated_at"]
    assert reply == {
        "service": "road-tax",
        "steps": STEPS,
        "origins": [SITE, "http://other.example"],
        "data_set": "road-tax/completion",
        "days": [
            {
                "day": f"2025-01-{15 - n:02d}",
                "steps": {"start": 0, "details": 0, "done": 0},
                "bots": 0,
                "prefetches": 0,
                "rejected": 0,
                "completed_clamped": False,
            }
            for n in range(7)
        ],
    }
    # The service had no completion data set: it has one now, typed, unpublished as the
    # service is not public.
    data_set = beacon.data_set
    assert (str(data_set), data_set.standard_type, data_set.published) == (
        "road-tax/completion",
        "completion",
        False,
    )
    assert data_set.auto_ids == ["_timestamp", "period"]
    entry = AuditEntry.objects.get(action="beacon.turn_on")
    assert (entry.actor, entry.service, entry.after["steps"]) == (
        world.editor,
        world.service,
        STEPS,
    )
    assert body(call(api.client, "GET", "/api/services/road-tax/beacon", token)) == body(response)


def test_a_public_services_new_completion_data_set_is_published(world):
    from perfplat.beacon.services import configure

    publish_directly(world.service)
    assert configure(None, world.service, STEPS, [SITE]).data_set.published


def test_the_services_own_completion_data_set_is_used(world, make_data_set):
    from perfplat.beacon.services import configure

    own, _ = make_data_set("road-tax", "journeys", standard_type="completion")
    own.service = world.service
    own.save()
    assert configure(None, world.service, STEPS, [SITE]).data_set == own


def test_changing_the_steps_keeps_the_data_set_and_is_audited(world, beacon, api):
    token = world.token(world.org_admin)
    response = call(
        api.client,
        "PUT",
        "/api/services/road-tax/beacon",
        token,
        {"steps": ["start", "done"], "origins": [SITE]},
    )
    assert body(response)["steps"] == ["start", "done"]
    assert Beacon.objects.get().data_set == beacon.data_set
    entry = AuditEntry.objects.get(action="beacon.configure")
    assert (entry.before["steps"], entry.after["steps"]) == (STEPS, ["start", "done"])


@pytest.mark.parametrize(
    "payload, message",
    [
        (
            {"steps": ["begin", "done"], "origins": [SITE]},
            'The steps must begin with "start" and end with "done"',
        ),
        (
            {"steps": ["start"], "origins": [SITE]},
            'The steps must begin with "start" and end with "done"',
        ),
        (
            {"steps": ["start", "Check Answers", "done"], "origins": [SITE]},
            "The step 'Check Answers' must be 1 to 50 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit",
        ),
        (
            {"steps": ["start", "a", "b", "a", "done"], "origins": [SITE]},
            "The step 'a' is listed twice",
        ),
        (
            {"steps": ["start", *(f"s{n}" for n in range(19)), "done"], "origins": [SITE]},
            "A journey has at most 20 steps",
        ),
        (
            {"steps": STEPS, "origins": []},
            "List at least one origin your pages are served from, like https://www.example.gov.uk",
        ),
        (
            {"steps": STEPS, "origins": [f"{SITE}/apply"]},
            "'https://www.example.gov.uk/apply' is not an origin: give the scheme and host "
            "only, like https://www.example.gov.uk",
        ),
        (
            {"steps": STEPS, "origins": ["www.example.gov.uk"]},
            "'www.example.gov.uk' is not an origin: give the scheme and host only, like "
            "https://www.example.gov.uk",
        ),
        (
            {"steps": STEPS, "origins": [f"https://site{n}.example" for n in range(21)]},
            "List at most 20 origins",
        ),
        ({"steps": "start,done", "origins": [SITE]}, "steps: Input should be a valid list"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(world, api, payload, message):
    token = world.token(world.editor)
    response = call(api.client, "PUT", "/api/services/road-tax/beacon", token, payload)
    assert_error(response, 400, message)
    assert not Beacon.objects.exists()
    assert not DataSet.objects.filter(data_type="completion").exists()


def test_a_free_form_completion_data_set_is_not_written_to(world, api, make_data_set):
    free, _ = make_data_set("road-tax", "completion")
    response = call(
        api.client,
        "PUT",
        "/api/services/road-tax/beacon",
        world.token(world.editor),
        {"steps": STEPS, "origins": [SITE]},
    )
    assert_error(
        response,
        400,
        "The data set road-tax/completion is not of the completion type, so the beacon cannot "
        "write its counts there: give it the completion type (while it is empty) first",
    )


def test_reading_a_beacon_that_is_off_is_404(world, api):
    response = call(api.client, "GET", "/api/services/road-tax/beacon", world.token(world.editor))
    assert_error(response, 404, "The journey beacon of road-tax is off")


def test_deleting_turns_the_beacon_off_and_keeps_its_counts(world, beacon, api, client):
    send(client, "start")
    counting.flusher.flush()
    response = call(
        api.client, "DELETE", "/api/services/road-tax/beacon", world.token(world.editor)
    )
    assert body(response) == {"status": "ok", "message": "The journey beacon of road-tax is off"}
    assert not Beacon.objects.exists()
    assert AuditEntry.objects.filter(action="beacon.turn_off").count() == 1
    send(client, "start")
    counting.flusher.flush()
    assert stored_counts() == {
        (world.service.pk, "start", HOUR, "counted"): 1,
        (0, "", HOUR, "unknown-service"): 1,
    }


def test_another_organisations_editor_cannot_change_the_beacon(world, api):
    response = call(
        api.client,
        "PUT",
        "/api/services/road-tax/beacon",
        world.token(world.other_editor),
        {"steps": STEPS, "origins": [SITE]},
    )
    assert_error(response, 403, "You do not have permission to do this (beacon.manage)")


# events


@pytest.mark.parametrize(
    "content_type, data",
    [
        ("application/json", b'{"step": "details"}'),
        ("text/plain;charset=UTF-8", b'{"step":"details"}'),
        ("application/x-www-form-urlencoded", b"step=details"),
    ],
)
def test_an_event_is_answered_204_and_counted(beacon, client, content_type, data):
    response = send(client, "", content_type=content_type, body=data)
    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"] == "no-store"
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Content-Type" not in response
    counting.flusher.flush()
    assert stored_counts() == {(beacon.service_id, "details", HOUR, "counted"): 1}


def test_the_pixel_is_a_transparent_gif_that_is_never_cached(beacon, client):
    response = pixel(client, "start")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response["Cache-Control"] == "no-store"
    assert response.content == PIXEL
    assert PIXEL[:6] == b"GIF89a" and PIXEL[6:10] == b"\x01\x00\x01\x00"
    counting.flusher.flush()
    assert stored_counts() == {(beacon.service_id, "start", HOUR, "counted"): 1}


def test_no_cookie_is_read_or_set(beacon, client):
    cookies = {"HTTP_COOKIE": "sessionid=abc; csrftoken=x; messages=y"}
    for response in (send(client, "start", **cookies), pixel(client, "start", **cookies)):
        assert response.cookies == {}
        assert "Set-Cookie" not in response
        assert "Vary" in response and "Cookie" not in response["Vary"]


def test_unknown_services_and_steps_are_answered_the_same_and_counted_as_rejected(beacon, client):
    answers = [
        send(client, "user-12345"),
        send(client, "start", service="no-such-service"),
        send(client, "", body=b"not json"),
        send(client, "", body=b'{"step": "' + b"x" * 2000 + b'"}'),
    ]
    assert [r.status_code for r in answers] == [204, 204, 204, 204]
    gifs = [pixel(client, "user-12345"), pixel(client, "start", service="no-such-service")]
    assert [(r.status_code, r.content) for r in gifs] == [(200, PIXEL), (200, PIXEL)]
    counting.flusher.flush()
    assert stored_counts() == {
        (beacon.service_id, "", HOUR, "unknown-step"): 4,
        (0, "", HOUR, "unknown-service"): 2,
    }


def test_bots_and_prefetches_are_counted_apart(beacon, client):
    send(client, "start", HTTP_USER_AGENT="Mozilla/5.0 (compatible; Googlebot/2.1)")
    send(client, "start", HTTP_USER_AGENT="")
    pixel(client, "details", HTTP_SEC_PURPOSE="prefetch")
    pixel(client, "details", HTTP_PURPOSE="prefetch")
    send(client, "details", HTTP_X_MOZ="prefetch")
    send(client, "done")
    counting.flusher.flush()
    assert stored_counts() == {
        (beacon.service_id, "start", HOUR, "bot"): 2,
        (beacon.service_id, "details", HOUR, "prefetch"): 3,
        (beacon.service_id, "done", HOUR, "counted"): 1,
    }


def test_only_listed_origins_are_counted_and_get_cors(beacon, client):
    other = "https://copy.example.org"
    refused = [
        send(client, "start", HTTP_ORIGIN=other),
        send(client, "start", HTTP_ORIGIN="null"),
        pixel(client, "start", HTTP_REFERER=f"{other}/apply/start"),
        # no Origin and no Referer: a program, not a listed page
        pixel(client, "start", HTTP_REFERER=""),
    ]
    assert [r.status_code for r in refused] == [204, 204, 200, 200]
    assert all("Access-Control-Allow-Origin" not in r for r in refused)
    # The Origin header decides, even when the Referer is a listed page.
    send(client, "start", HTTP_ORIGIN=other, HTTP_REFERER=f"{SITE}/apply")
    counting.flusher.flush()
    assert stored_counts() == {(beacon.service_id, "", HOUR, "unlisted-origin"): 5}


def test_the_preflight_allows_listed_origins_only(beacon, client):
    allowed = client.options("/beacon/road-tax", HTTP_ORIGIN=SITE)
    assert allowed.status_code == 204
    assert {
        name: allowed[name]
        for name in (
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Max-Age",
            "Vary",
        )
    } == {
        "Access-Control-Allow-Origin": SITE,
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
        "Vary": "Origin",
    }
    refused = client.options("/beacon/road-tax", HTTP_ORIGIN="https://copy.example.org")
    assert refused.status_code == 204
    assert "Access-Control-Allow-Origin" not in refused
    assert "Access-Control-Allow-Credentials" not in allowed
    counting.flusher.flush()
    assert stored_counts() == {}


def test_other_methods_are_405_with_what_is_allowed(beacon, client):
    response = client.get("/beacon/road-tax")
    assert (response.status_code, response["Allow"]) == (405, "POST, OPTIONS")
    response = client.post("/beacon/road-tax/start.gif")
    assert (response.status_code, response["Allow"]) == (405, "GET, HEAD, OPTIONS")
    head = client.head("/beacon/road-tax/start.gif", HTTP_REFERER=SITE, HTTP_USER_AGENT=CHROME)
    assert head.status_code == 200
    counting.flusher.flush()
    assert stored_counts() == {}


def test_a_changed_step_list_takes_effect_after_the_configured_seconds(
    beacon, client, settings, monkeypatch
):
    settings.PERFPLAT_BEACON_CONFIG_SECONDS = 5
    clock = [1000.0]
    monkeypatch.setattr(counting.time, "monotonic", lambda: clock[0])
    send(client, "details")
    # Changed by another process: this one has the old steps for up to 5 seconds.
    Beacon.objects.filter(pk=beacon.pk).update(steps=["start", "review", "done"])
    clock[0] += 4.9
    send(client, "review")
    clock[0] += 0.1
    send(client, "review")
    send(client, "details")
    counting.flusher.flush()
    assert stored_counts() == {
        (beacon.service_id, "details", HOUR, "counted"): 1,
        (beacon.service_id, "", HOUR, "unknown-step"): 2,
        (beacon.service_id, "review", HOUR, "counted"): 1,
    }


# storing counts and the completion data set


def test_flushing_adds_to_the_stored_counts(beacon, client):
    for _ in range(3):
        send(client, "start")
    counting.flusher.flush()
    send(client, "start")
    counting.tally.add((beacon.service_id, "start", HOUR - 3600, "counted"), 5)
    counting.flusher.flush()
    assert stored_counts() == {
        (beacon.service_id, "start", HOUR, "counted"): 4,
        (beacon.service_id, "start", HOUR - 3600, "counted"): 5,
    }
    counting.flusher.flush()
    assert stored_counts()[(beacon.service_id, "start", HOUR, "counted")] == 4


def test_counts_that_cannot_be_stored_are_kept_for_the_next_flush(beacon, client, monkeypatch):
    send(client, "start")

    def broken(counts):
        raise RuntimeError("the database is away")

    real = counting.store
    monkeypatch.setattr(counting, "store", broken)
    with pytest.raises(RuntimeError):
        counting.flusher.flush()
    send(client, "start")
    monkeypatch.setattr(counting, "store", real)
    counting.flusher.flush()
    assert stored_counts() == {(beacon.service_id, "start", HOUR, "counted"): 2}


def test_the_days_counts_become_the_completion_data_set_marked_automatic(beacon, client):
    for step, times in (("start", 5), ("details", 4), ("done", 3)):
        for _ in range(times):
            send(client, step)
    send(client, "start", HTTP_USER_AGENT="curl/8.5.0")
    send(client, "done", HTTP_ORIGIN="https://copy.example.org")
    # Counted yesterday by another process.
    counting.tally.add((beacon.service_id, "start", DAY - 3600, "counted"), 10)
    counting.tally.add((beacon.service_id, "done", DAY - 7200, "counted"), 7)
    counting.flusher.flush()
    assert completion(beacon) == [
        {
            "_timestamp": "2025-01-14T00:00:00+00:00",
            "period": "day",
            "started": 10,
            "completed": 7,
        },
        {
            "_timestamp": "2025-01-15T00:00:00+00:00",
            "period": "day",
            "started": 5,
            "completed": 3,
        },
    ]
    batch = WriteBatch.objects.get(data_set=beacon.data_set)
    assert (batch.kind, batch.record_count) == ("beacon", 2)
    assert source_of(beacon.data_set) == "automatic"


def test_a_day_with_more_done_than_start_is_clamped(beacon, client, world, api):
    send(client, "start")
    send(client, "done")
    send(client, "done")
    counting.flusher.flush()
    assert completion(beacon)[0] == {
        "_timestamp": "2025-01-15T00:00:00+00:00",
        "period": "day",
        "started": 1,
        "completed": 1,
    }
    reply = body(
        call(api.client, "GET", "/api/services/road-tax/beacon", world.token(world.editor))
    )
    assert reply["days"][0] == {
        "day": "2025-01-15",
        "steps": {"start": 1, "details": 0, "done": 2},
        "bots": 0,
        "prefetches": 0,
        "rejected": 0,
        "completed_clamped": True,
    }


def test_the_data_set_is_written_at_most_every_configured_seconds_and_on_the_final_flush(
    beacon, client, settings, monkeypatch
):
    settings.PERFPLAT_BEACON_DATA_SET_SECONDS = 60
    clock = [5000.0]
    monkeypatch.setattr(counting.time, "monotonic", lambda: clock[0])
    send(client, "start")
    counting.flusher.flush()  # the first write of a service is at once
    send(client, "start")
    clock[0] += 59
    counting.flusher.flush()
    assert completion(beacon)[0]["started"] == 1
    assert stored_counts()[(beacon.service_id, "start", HOUR, "counted")] == 2
    clock[0] += 1
    counting.flusher.flush()
    assert completion(beacon)[0]["started"] == 2
    send(client, "start")
    counting.flusher.flush(final=True)
    assert completion(beacon)[0]["started"] == 3
    assert WriteBatch.objects.filter(data_set=beacon.data_set).count() == 3


def test_the_kpi_api_gives_the_completion_rate_of_the_beacons_days(beacon, client, monkeypatch):
    from perfplat.kpis import services as kpi_services

    publish_directly(beacon.service)
    DataSet.objects.filter(pk=beacon.data_set_id).update(published=True)
    # Events on three days only: the days between, counted nothing, are days of 0 journeys.
    for when, starts, dones in (
        ("2025-01-01T08:00:00Z", 2, 1),
        ("2025-01-15T10:30:00Z", 8, 6),
        ("2025-02-01T09:00:00Z", 3, 3),
    ):
        monkeypatch.setattr(events, "current_time", lambda when=when: parse_datetime(when))
        for step, times in (("start", starts), ("done", dones)):
            for _ in range(times):
                send(client, step)
        counting.flusher.flush(final=True)
    stored = {r["_timestamp"]: (r["started"], r["completed"]) for r in completion(beacon)}
    assert len(stored) == 32  # 1 January to 1 February
    assert stored["2025-01-02T00:00:00+00:00"] == (0, 0)
    assert stored["2025-01-15T00:00:00+00:00"] == (8, 6)
    # January 2025 is complete on 2 February.
    monkeypatch.setattr(
        kpi_services, "current_time", lambda: parse_datetime("2025-02-02T00:00:00Z")
    )
    reply = body(client.get("/api/services/road-tax/kpis"))
    january = reply["periods"][-1]
    assert (january["start_at"], january["end_at"]) == (
        "2025-01-01T00:00:00+00:00",
        "2025-02-01T00:00:00+00:00",
    )
    rate = january["kpis"]["completion_rate"]
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (7, 10, 0.7)


# the production entry point (perfplat.wsgi, what `perfplat serve` runs)


def wsgi_call(method, path, body=b"", **environ):
    """Call perfplat.wsgi.application itself. As Django's test client does, the request
    signals do not close the database connection, which holds the test's transaction."""
    import io

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from perfplat.wsgi import application

    started = {}

    def start_response(status, headers, exc_info=None):
        started.update(status=status, headers=headers)

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        **environ,
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = application(environ, start_response)
        try:
            answer = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], started["headers"], answer


def test_the_production_wsgi_application_answers_the_beacon_before_django(beacon):
    status, headers, answer = wsgi_call(
        "POST",
        "/beacon/road-tax",
        b'{"step":"start"}',
        CONTENT_TYPE="text/plain;charset=UTF-8",
        HTTP_ORIGIN=SITE,
        HTTP_USER_AGENT=CHROME,
        HTTP_COOKIE="sessionid=abc; csrftoken=x",
    )
    assert (status, answer) == ("204 No Content", b"")
    assert headers == [
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
        ("Vary", "Origin"),
        ("Access-Control-Allow-Origin", SITE),
        ("Content-Length", "0"),
    ]
    status, headers, answer = wsgi_call(
        "GET", "/beacon/road-tax/done.gif", HTTP_REFERER=f"{SITE}/", HTTP_USER_AGENT=CHROME
    )
    assert (status, answer) == ("200 OK", PIXEL)
    assert ("Content-Type", "image/gif") in headers
    assert ("Content-Length", str(len(PIXEL))) in headers
    status, headers, answer = wsgi_call("HEAD", "/beacon/road-tax/done.gif")
    assert (status, answer, ("Content-Length", str(len(PIXEL))) in headers) == (
        "200 OK",
        b"",
        True,
    )
    counting.flusher.flush()
    assert stored_counts() == {
        (beacon.service_id, "start", HOUR, "counted"): 1,
        (beacon.service_id, "done", HOUR, "counted"): 1,
    }


def test_the_production_wsgi_application_passes_other_paths_to_django(db):
    status, _, answer = wsgi_call("GET", "/_status")
    assert (status, answer) == ("200 OK", b'{"status":"ok","message":"database is up"}')
    status, _, _ = wsgi_call("GET", "/beacon/road-tax/start/extra")
    assert status == "404 Not Found"
