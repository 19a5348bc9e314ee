"""The `perfplat` command, run in-process, and once for real as a console script."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC
from pathlib import Path

import pytest

from helpers import SERVER_ENV, body
from perfplat.accounts.models import User
from perfplat.cli import main
from perfplat.datasets.models import DataSet, Record
from perfplat.datasets.periods import WEEK, parse_datetime
from perfplat.registry.models import Organisation, Service

SLUG_MESSAGE = (
    "perfplat: error: data group 'Bad Slug' must be 1 to 100 lower-case letters, digits, "
    "'-' or '_', starting with a letter or digit\n"
)


def run(capsys, *argv):
    """Run the command; returns (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv) -> str:
    """Run a command that argparse refuses; returns its stderr."""
    with pytest.raises(SystemExit) as raised:
        main(list(argv))
    assert raised.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    return err


def create(capsys, *argv) -> str:
    """Create a data set; returns its token."""
    code, out, _ = run(capsys, "datasets", "create", *argv)
    assert code == 0
    return out.splitlines()[-1]


def write(api, path, token):
    return api.post(path, {"_id": "a", "n": 1}, token)


# datasets create


def test_create_prints_the_token_as_the_last_line(db, capsys):
    code, out, err = run(capsys, "datasets", "create", "vehicle-tax", "events")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:-1] == [
        "Created data set vehicle-tax/events (name vehicle_tax_events, free-form, unpublished).",
        "Its bearer token follows. It is shown only now: store it safely.",
    ]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", lines[-1])


def test_token_printed_by_create_authorizes_writes(db, capsys, api):
    token = create(capsys, "vehicle-tax", "events")
    response = write(api, "/data/vehicle-tax/events", token)
    assert body(response) == {"status": "ok", "count": 1}


def test_create_stores_the_options_given(db, capsys):
    create(
        capsys,
        "vehicle-tax",
        "events",
        "--name",
        "Vehicle tax events",
        "--auto-ids",
        "_timestamp, channel,period",
        "--raw-queries",
        "--max-age",
        "3600",
        "--published",
        "--cache-max-age",
        "30",
    )
    ds = DataSet.objects.get(data_group="vehicle-tax", data_type="events")
    assert (
        ds.name,
        ds.auto_ids,
        ds.raw_queries_allowed,
        ds.max_age_expected,
        ds.published,
        ds.cache_max_age,
    ) == ("Vehicle tax events", ["_timestamp", "channel", "period"], True, 3600, True, 30)


def test_create_says_a_published_data_set_is_published(db, capsys):
    _, out, _ = run(capsys, "datasets", "create", "vehicle-tax", "events", "--published")
    assert out.splitlines()[0] == (
        "Created data set vehicle-tax/events (name vehicle_tax_events, free-form, published)."
    )


def test_create_with_unpublished_stores_an_unpublished_data_set(db, capsys):
    create(capsys, "vehicle-tax", "events", "--unpublished")
    assert DataSet.objects.get().published is False


def test_create_defaults_to_unpublished_without_raw_queries_or_max_age(db, capsys):
    create(capsys, "vehicle-tax", "events")
    ds = DataSet.objects.get()
    assert (
        ds.name,
        ds.auto_ids,
        ds.raw_queries_allowed,
        ds.max_age_expected,
        ds.published,
        ds.cache_max_age,
    ) == ("vehicle_tax_events", [], False, None, False, None)


def test_create_of_an_existing_data_set_exits_2_with_a_message(db, capsys):
    create(capsys, "vehicle-tax", "events")
    code, out, err = run(capsys, "datasets", "create", "vehicle-tax", "events")
    assert (code, out, err) == (
        2,
        "",
        "perfplat: error: Data set vehicle-tax/events already exists\n",
    )
    assert DataSet.objects.count() == 1


def test_create_with_a_name_already_taken_exits_2(db, capsys):
    create(capsys, "vehicle-tax", "events", "--name", "taken")
    code, _, err = run(capsys, "datasets", "create", "other", "events", "--name", "taken")
    assert (code, err) == (2, "perfplat: error: A data set named 'taken' already exists\n")


def test_create_with_an_invalid_slug_exits_2_with_a_message(db, capsys):
    code, out, err = run(capsys, "datasets", "create", "Bad Slug", "events")
    assert (code, out, err) == (2, "", SLUG_MESSAGE)
    assert DataSet.objects.count() == 0


def test_create_with_invalid_auto_ids_exits_2_with_a_message(db, capsys):
    code, _, err = run(capsys, "datasets", "create", "vehicle-tax", "events", "--auto-ids", "1st")
    assert (code, err) == (
        2,
        "perfplat: error: auto_ids: '1st' is not a field records can have "
        "(an identifier, or _timestamp)\n",
    )
    assert DataSet.objects.count() == 0


def test_create_with_a_standard_type_checks_records_and_feeds_the_kpis(db, capsys):
    _, out, _ = run(capsys, "datasets", "create", "vehicle-tax", "spend", "--standard-type", "cost")
    assert out.splitlines()[0] == (
        "Created data set vehicle-tax/spend (name vehicle_tax_spend, standard type cost, "
        "unpublished)."
    )
    data_set = DataSet.objects.get(data_group="vehicle-tax", data_type="spend")
    assert (data_set.standard_type, data_set.auto_ids) == (
        "cost",
        ["_timestamp", "period", "channel"],
    )


def test_create_with_an_unknown_standard_type_exits_2_with_a_message(db, capsys):
    code, out, err = run(
        capsys, "datasets", "create", "vehicle-tax", "spend", "--standard-type", "costs"
    )
    assert (code, out) == (2, "")
    assert err == (
        "perfplat: error: standard_type must be one of transactions-by-channel, cost, "
        "user-satisfaction, completion, or empty for a free-form data set\n"
    )
    assert DataSet.objects.count() == 0


def test_create_named_like_a_standard_type_asks_which_is_meant(db, capsys):
    code, out, err = run(capsys, "datasets", "create", "vehicle-tax", "cost")
    assert (code, out) == (2, "")
    assert err == (
        "perfplat: error: 'cost' is the name of a standard type. For a data set the KPIs use, "
        "whose records are checked as cost records, add --standard-type cost; for a free-form "
        "data set of that name (not used by the KPIs), add --free-form\n"
    )
    assert DataSet.objects.count() == 0


def test_create_free_form_with_a_standard_type_name(db, capsys):
    create(capsys, "vehicle-tax", "cost", "--free-form")
    assert DataSet.objects.get(data_type="cost").standard_type == ""


def test_standard_type_and_free_form_together_are_a_usage_error(db, capsys):
    err = usage_error(
        capsys, "datasets", "create", "g", "cost", "--free-form", "--standard-type", "cost"
    )
    assert "argument --standard-type: not allowed with argument --free-form" in err


def test_create_without_group_and_type_is_a_usage_error(db, capsys):
    err = usage_error(capsys, "datasets", "create")
    assert "error: the following arguments are required: GROUP, TYPE" in err


def test_create_without_type_is_a_usage_error(db, capsys):
    err = usage_error(capsys, "datasets", "create", "vehicle-tax")
    assert "error: the following arguments are required: TYPE" in err


def test_max_age_that_is_not_a_number_is_a_usage_error(db, capsys):
    err = usage_error(capsys, "datasets", "create", "g", "t", "--max-age", "abc")
    assert "argument --max-age: expected a whole number of seconds, got 'abc'" in err


def test_negative_max_age_is_a_usage_error(db, capsys):
    err = usage_error(capsys, "datasets", "create", "g", "t", "--max-age=-5")
    assert "argument --max-age: expected a whole number of seconds, got '-5'" in err


def test_cache_max_age_that_is_not_a_number_is_a_usage_error(db, capsys):
    err = usage_error(capsys, "datasets", "create", "g", "t", "--cache-max-age", "1.5")
    assert "argument --cache-max-age: expected a whole number of seconds, got '1.5'" in err


def test_published_and_unpublished_together_are_a_usage_error(db, capsys):
    err = usage_error(capsys, "datasets", "create", "g", "t", "--published", "--unpublished")
    assert "argument --unpublished: not allowed with argument --published" in err
    assert DataSet.objects.count() == 0


def test_no_command_is_a_usage_error(db, capsys):
    assert "the following arguments are required: COMMAND" in usage_error(capsys)


def test_unknown_command_is_a_usage_error(db, capsys):
    assert "invalid choice: 'frobnicate'" in usage_error(capsys, "frobnicate")


def test_datasets_without_action_is_a_usage_error(db, capsys):
    assert "the following arguments are required: ACTION" in usage_error(capsys, "datasets")


def test_serve_with_a_bad_port_is_a_usage_error(capsys):
    err = usage_error(capsys, "serve", "--port", "70000")
    assert "argument --port: expected a port number (1-65535), got '70000'" in err


@pytest.mark.parametrize(
    "threads, expected",
    [(1, []), (4, ["--worker-class", "gthread", "--threads", "4"])],
)
def test_serve_runs_gthread_workers_when_given_threads(
    monkeypatch, settings, capsys, threads, expected
):
    import argparse

    from perfplat import cli

    settings.SECRET_KEY, settings.ALLOWED_HOSTS_GIVEN = SERVER_ENV["SECRET_KEY"], True

    ran = []
    monkeypatch.setattr(cli.os, "execv", lambda path, argv: ran.append(argv))
    cli.cmd_serve(
        argparse.Namespace(
            host="127.0.0.1", port=8000, workers=3, threads=threads, access_log=False
        )
    )
    argv = ran[0]
    assert argv[argv.index("--workers") : argv.index("--timeout")] == ["--workers", "3", *expected]


# datasets list


def test_list_without_data_sets_says_how_to_create_one(db, capsys):
    assert run(capsys, "datasets", "list") == (
        0,
        "No data sets yet. Create one with: perfplat datasets create GROUP TYPE\n",
        "",
    )


def test_list_shows_a_table_of_the_data_sets(db, capsys, api):
    token = create(capsys, "vehicle-tax", "events", "--published", "--max-age", "3600")
    create(capsys, "another", "kind", "--raw-queries")
    api.post("/data/vehicle-tax/events", [{"_id": "a"}, {"_id": "b"}], token)
    code, out, _ = run(capsys, "datasets", "list")
    rows = [re.split(r"\s{2,}", line) for line in out.splitlines()]
    last_write = DataSet.objects.get(data_type="events").last_write_at
    assert code == 0
    assert rows == [
        ["DATA SET", "NAME", "PUBLISHED", "RAW QUERIES", "MAX AGE", "RECORDS", "LAST WRITE"],
        ["another/kind", "another_kind", "no", "yes", "-", "0", "never"],
        [
            "vehicle-tax/events",
            "vehicle_tax_events",
            "yes",
            "no",
            "3600s",
            "2",
            last_write.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        ],
    ]


def test_list_aligns_its_columns(db, capsys):
    create(capsys, "a-rather-long-data-group", "events")
    create(capsys, "short", "t")
    _, out, _ = run(capsys, "datasets", "list")
    header, first, second = out.splitlines()
    column = header.index("NAME")
    assert (first.index("a_rather_long"), second.index("short_t")) == (column, column)


# datasets rotate-token


def test_rotate_token_prints_a_new_token_that_authorizes_writes(db, capsys, api):
    old = create(capsys, "vehicle-tax", "events")
    code, out, err = run(capsys, "datasets", "rotate-token", "vehicle-tax", "events")
    new = out.splitlines()[-1]
    assert (code, err) == (0, "")
    assert out.splitlines()[:-1] == [
        "Issued a new token for vehicle-tax/events; the old one no longer works.",
        "The new bearer token follows. It is shown only now: store it safely.",
    ]
    assert new != old
    assert write(api, "/data/vehicle-tax/events", new).status_code == 200


def test_rotate_token_revokes_the_old_token(db, capsys, api):
    old = create(capsys, "vehicle-tax", "events")
    run(capsys, "datasets", "rotate-token", "vehicle-tax", "events")
    assert write(api, "/data/vehicle-tax/events", old).status_code == 401


def test_rotate_token_of_an_unknown_data_set_exits_2(db, capsys):
    assert run(capsys, "datasets", "rotate-token", "nope", "events") == (
        2,
        "",
        "perfplat: error: Data set nope/events not found\n",
    )


# datasets empty


def test_empty_deletes_every_record_of_the_data_set(db, capsys, api):
    token = create(capsys, "vehicle-tax", "events")
    other = create(capsys, "other", "events")
    api.post("/data/vehicle-tax/events", [{"_id": "a"}, {"_id": "b"}], token)
    api.post("/data/other/events", [{"_id": "c"}], other)
    assert run(capsys, "datasets", "empty", "vehicle-tax", "events") == (
        0,
        "vehicle_tax_events now contains 0 records\n",
        "",
    )
    assert list(Record.objects.values_list("record_id", flat=True)) == ["c"]


def test_emptying_a_published_data_set_logs_a_correction_with_the_reason(db, capsys, api):
    from perfplat.datasets.models import Correction

    token = create(capsys, "vehicle-tax", "events", "--published")
    api.post("/data/vehicle-tax/events", [{"_id": "a"}, {"_id": "b"}], token)
    run(capsys, "datasets", "empty", "vehicle-tax", "events", "--reason", "Test data")
    [correction] = Correction.objects.all()
    assert (correction.action, correction.record_count, correction.reason, correction.path) == (
        "empty",
        2,
        "Test data",
        "manage",
    )


def test_empty_of_an_unknown_data_set_exits_2(db, capsys):
    assert run(capsys, "datasets", "empty", "nope", "events") == (
        2,
        "",
        "perfplat: error: Data set nope/events not found\n",
    )


# demo


def test_demo_is_idempotent(db, capsys):
    run(capsys, "demo")
    first = Record.objects.count()
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert out.splitlines()[-1] == (
        "Demo data loaded. Sign in at /manage/ as admin@perfplat.example (perfplat-demo-2026)."
    )
    assert first == Record.objects.count() > 4000
    # The 12 services with data, and the retired service's data set that still expects data.
    assert DataSet.objects.values("data_group").distinct().count() == 13
    assert (Organisation.objects.count(), Service.objects.count(), User.objects.count()) == (
        15,
        16,
        3,
    )


def test_demo_admins_sign_in_with_the_code_demo_code_prints(client, db, capsys, settings):
    settings.PERFPLAT_TWO_FACTOR_REQUIRED = True
    run(capsys, "demo")
    client.post(
        "/manage/sign-in",
        {"username": "dft-admin@perfplat.example", "password": "perfplat-demo-2026"},
    )
    code, out, _ = run(capsys, "demo-code")
    assert code == 0 and len(out.strip()) == 6 and out.strip().isdigit()
    response = client.post("/manage/sign-in/code", {"code": out.strip()})
    assert response["Location"] == "/manage/"
    assert client.get("/manage/").status_code == 200


def test_the_demo_code_is_rfc_6238s_sha1_test_vector():
    from perfplat.demo import demo_code

    # RFC 6238, appendix B: at 59 s the 8-digit code is 94287082; six digits, 287082.
    assert demo_code(59) == "287082"


def test_demo_registry_has_departments_with_agencies_and_services_in_every_phase(db, capsys):
    run(capsys, "demo")
    departments = Organisation.objects.filter(type="department")
    assert departments.filter(children__isnull=False).distinct().count() >= 3
    assert set(Service.objects.values_list("phase", flat=True)) == {
        "discovery",
        "alpha",
        "beta",
        "live",
        "retired",
    }
    assert set(User.objects.values_list("role", flat=True)) == {
        "platform-admin",
        "org-admin",
        "editor",
    }
    # every demo data set belongs to the service its group names
    assert all(ds.service.slug == ds.data_group for ds in DataSet.objects.all())


def test_demo_loads_over_a_year_of_weekly_transactions_by_channel(db, capsys):
    from datetime import UTC, datetime

    run(capsys, "demo")
    ds = DataSet.objects.get(data_group="vehicle-tax", data_type="transactions-by-channel")
    records = [
        {**row.data, "_timestamp": row.timestamp} for row in Record.objects.filter(data_set=ds)
    ]
    weeks = sorted({record["_timestamp"] for record in records})
    monday = parse_datetime("2024-01-01T00:00:00Z")
    # Fifteen whole months of weeks: enough for every change from a year earlier.
    assert 64 <= len(weeks) <= 70
    assert all((week - monday) % WEEK == 0 for week in weeks)
    assert [b - a for a, b in zip(weeks, weeks[1:], strict=False)] == [WEEK] * (len(weeks) - 1)
    assert weeks[-1] < time.time() <= weeks[-1] + 2 * WEEK
    # The first week is the first Monday of its month: no month is half there.
    assert datetime.fromtimestamp(weeks[0], UTC).day <= 7
    assert sorted({record["channel"] for record in records}) == ["digital", "paper", "phone"]
    for channel in ("digital", "paper", "phone"):
        assert sum(record["channel"] == channel for record in records) == len(weeks)
    assert all(record["period"] == "week" and record["count"] > 0 for record in records)


def test_demo_shows_one_service_ready_and_the_others_not_each_for_its_reason(db, capsys):
    from perfplat.publishing.readiness import readiness

    run(capsys, "demo")
    reports = {service.slug: readiness(service) for service in Service.objects.all()}

    def first_unmet(slug) -> str:
        return next(item.key for item in reports[slug].required if not item.met)

    assert [slug for slug, report in reports.items() if report.ready] == ["vehicle-tax"]
    assert reports["vehicle-tax"].met_count == 12
    assert reports["report-a-pothole"].status == "not applicable"
    reasons = {
        "check-benefit-entitlement": "alpha.metrics-planned",  # nothing planned yet
        "extend-your-visa": "alpha.metrics-supported",  # a field its type does not have
        "child-benefit": "beta.evolution",  # no note since its alpha assessment
        "lasting-power-of-attorney": "beta.baseline",  # no baseline period chosen
        "driving-licence-renewal": "live.rationales",  # a metric without a rationale
        "register-to-vote": "beta.baseline",  # no completion data set
        "carers-allowance": "beta.baseline",  # no cost data set
        "renew-tax-disc": "retired.no-data-expected",  # its data set still expects data
    }
    assert {slug: first_unmet(slug) for slug in reasons} == reasons
    assert reports["register-to-vote"].next_step == (
        "Create a data set of the standard type completion and send its records for the "
        "baseline period"
    )


# the real console script


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch_status(port: int):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_status", timeout=2) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def test_console_script_migrates_and_serves(tmp_path):
    script = Path(sys.executable).parent / "perfplat"
    # The suite may run on PostgreSQL: the subprocess always gets its own SQLite file.
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'perfplat.sqlite3'}",
        **SERVER_ENV,
    }
    migrated = subprocess.run(
        [str(script), "migrate", "-v", "0"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "perfplat.sqlite3").exists()

    port = free_port()
    server = subprocess.Popen(
        [str(script), "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        answer = None
        while answer is None and time.monotonic() < deadline:
            assert server.poll() is None, server.communicate()
            try:
                answer = fetch_status(port)
            except OSError:
                time.sleep(0.1)
        assert answer == (200, {"status": "ok", "message": "database is up"})
    finally:
        server.terminate()
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
