"""Freshness and notifications: the freshness rule with controlled time; one email per
staleness episode to the service's team and one when data resumes, delivered to a real SMTP
server; failing collectors told once per streak (and folded into the staleness email); the
weekly digest; retries; the GOV.UK Notify backend; the emails people see in /manage/."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collector_fixtures import GOOD_CSV, free_port
from helpers import body
from perfplat.collectors import services as collectors
from perfplat.datasets.models import DataSet
from perfplat.datasets.services import Freshness, freshness, stale_data_sets
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.notifications import services
from perfplat.notifications.models import Message, StalenessEpisode

# The moment of the data set's last write in these tests.
T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEAM = ["dft-admin@example.gov.uk", "dft-editor@example.gov.uk"]


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def last_written(data_set, moment):
    DataSet.objects.filter(pk=data_set.pk).update(last_write_at=moment)
    data_set.refresh_from_db()


def write(data_set, moment):
    """A write that happened at `moment` (the write path stamps the real time)."""
    record = {"_timestamp": "2024-01-01T00:00:00Z", "period": "week", "channel": "web", "count": 1}
    write_records(data_set, [record], WriteSource("api"))
    last_written(data_set, moment)


# the freshness rule


def test_freshness_with_controlled_time(typed):
    last_written(typed, T)
    assert freshness(typed, at(3600)) == Freshness(T, 3600, stale=False)
    assert freshness(typed, at(3601)) == Freshness(
        T, 3600, stale=True, seconds_out_of_date=1, stale_since=at(3600)
    )
    assert freshness(typed, at(86400)).seconds_out_of_date == 86400 - 3600


def test_a_data_set_never_written_or_without_a_max_age_is_never_stale(typed, world):
    assert freshness(typed, at(10**6)) == Freshness(None, 3600, stale=False)
    last_written(world.data_set, T)
    assert freshness(world.data_set, at(10**6)) == Freshness(T, None, stale=False)


def test_stale_data_sets_lists_only_the_stale(typed, world):
    last_written(typed, T)
    assert stale_data_sets(at(60)) == []
    assert [(str(d), f.seconds_out_of_date) for d, f in stale_data_sets(at(3700))] == [
        ("road-tax/transactions-by-channel", 100)
    ]


def test_the_api_says_whether_a_data_set_is_stale(client, typed, world):
    client.force_login(world.editor)
    last_written(typed, datetime.now(UTC) - timedelta(hours=2))
    stale = body(client.get(f"/api/data-sets/{typed.pk}"))
    assert (stale["stale"], stale["last_write_at"][:16]) == (
        True,
        typed.last_write_at.isoformat()[:16],
    )
    last_written(typed, datetime.now(UTC))
    assert body(client.get(f"/api/data-sets/{typed.pk}"))["stale"] is False
    listed = body(client.get("/api/services/road-tax/data-sets"))
    assert {entry["data_type"]: entry["stale"] for entry in listed} == {
        "transactions": False,
        "transactions-by-channel": False,
    }


def test_the_data_set_page_flags_a_stale_data_set(client, typed, world):
    client.force_login(world.editor)
    last_written(typed, datetime.now(UTC) - timedelta(hours=2))
    page = client.get(f"/manage/data-sets/{typed.pk}").content.decode()
    assert "Freshness and collectors" in page
    assert '<strong class="govuk-tag govuk-tag--red">Out of date</strong>' in page
    last_written(typed, datetime.now(UTC))
    page = client.get(f"/manage/data-sets/{typed.pk}").content.decode()
    assert '<strong class="govuk-tag govuk-tag--green">Up to date</strong>' in page


def test_durations_are_said_as_people_say_them():
    assert [
        services.duration_text(seconds)
        for seconds in (1, 45, 60, 90, 174, 180, 3600, 5400, 7200, 8 * 86400)
    ] == [
        "1 second",
        "45 seconds",
        "1 minute",
        "90 seconds",
        "3 minutes",
        "3 minutes",
        "1 hour",
        "90 minutes",
        "2 hours",
        "8 days",
    ]


# one email per episode, to a real SMTP server


def test_one_email_per_staleness_episode_and_one_when_data_resumes(typed, smtp):
    write(typed, T)
    services.check_freshness(at(1800))
    assert smtp.messages == []

    services.check_freshness(at(3700))
    services.check_freshness(at(3760))
    services.check_freshness(at(7200))
    [(recipients, email)] = smtp.messages
    assert recipients == TEAM
    assert email["Subject"] == "Data set road-tax/transactions-by-channel is out of date"
    assert email["To"] == ", ".join(TEAM)
    text = smtp.text(0)
    assert text.startswith("Hello Tax your vehicle team,\n\nNo data has reached the data set ")
    assert (
        "since 2 March 2026 at 09:00 UTC. It is expected to receive data at least every "
        "hour, so it has been out of date since 2 March 2026 at 10:00 UTC."
    ) in text
    assert f"http://127.0.0.1:8000/manage/data-sets/{typed.pk}" in text

    write(typed, at(7300))
    services.check_freshness(at(7310))
    services.check_freshness(at(7400))
    assert smtp.subjects == [
        "Data set road-tax/transactions-by-channel is out of date",
        "Data is arriving again for road-tax/transactions-by-channel",
    ]
    resumed = smtp.text(1)
    assert "it was last written to at 2 March 2026 at 11:01 UTC" in resumed
    assert "It had been out of date since 2 March 2026 at 10:00 UTC, for 62 minutes." in resumed

    # A new episode: one more email, and only one.
    services.check_freshness(at(7300 + 3601))
    services.check_freshness(at(7300 + 4000))
    assert len(smtp.messages) == 3
    episodes = StalenessEpisode.objects.filter(data_set=typed).order_by("id")
    assert [(e.stale_since, e.ended_at, e.resumed) for e in episodes] == [
        (at(3600), at(7310), True),
        (at(7300 + 3600), None, False),
    ]
    assert list(Message.objects.values_list("status", flat=True)) == ["sent"] * 3


def test_the_team_is_the_services_organisation_and_the_admins_above_it(world):
    from perfplat.accounts.services import create_user

    inactive = create_user(None, "gone@example.gov.uk", "editor", organisation=world.department)
    inactive.is_active = False
    inactive.save()
    agency_set, _ = DataSet.objects.get_or_create(
        data_group="licence-renewal",
        data_type="x",
        defaults={"name": "lr_x", "service": world.agency_service},
    )
    assert [u.email for u in services.team_of(world.data_set)] == TEAM
    assert [u.email for u in services.team_of(agency_set)] == [
        "dft-admin@example.gov.uk",
        "la-editor@example.gov.uk",
    ]
    assert [u.email for u in services.team_of(world.other_data_set)] == [
        "doh-admin@example.gov.uk",
        "doh-editor@example.gov.uk",
    ]


def test_an_episode_is_opened_once_even_if_two_checks_find_it(typed, mailoutbox):
    last_written(typed, T)
    [(data_set, state)] = stale_data_sets(at(3700))
    assert services.open_episode(data_set, state, at(3700)) is not None
    assert services.open_episode(data_set, state, at(3701)) is None
    services.deliver_pending(at(3702))
    assert len(mailoutbox) == 1
    assert StalenessEpisode.objects.count() == Message.objects.count() == 1


def test_an_episode_ends_quietly_when_data_is_no_longer_expected(typed, mailoutbox):
    from perfplat.datasets.services import update_data_set

    last_written(typed, T)
    services.check_freshness(at(3700))
    update_data_set(None, typed, max_age_expected=None)
    services.check_freshness(at(3800))
    assert [email.subject for email in mailoutbox] == [
        "Data set road-tax/transactions-by-channel is out of date"
    ]
    episode = StalenessEpisode.objects.get()
    assert (episode.ended_at, episode.resumed) == (at(3800), False)


def test_a_data_set_written_and_stale_again_between_two_checks_is_two_episodes(typed, mailoutbox):
    last_written(typed, T)
    services.check_freshness(at(3700))
    last_written(typed, at(3800))
    services.check_freshness(at(3800 + 3700))
    assert [email.subject.split(" ")[0:3] for email in mailoutbox] == [
        ["Data", "set", "road-tax/transactions-by-channel"],
        ["Data", "is", "arriving"],
        ["Data", "set", "road-tax/transactions-by-channel"],
    ]


# failing collectors


def test_a_failing_collector_is_emailed_once_per_streak(world, source, collecting, smtp):
    from perfplat.datasets.services import DataSetSettings, create_data_set

    # No max_age_expected: nothing else would tell the team.
    data_set, _ = create_data_set(
        None,
        "transactions-by-channel",
        service=world.service,
        settings=DataSetSettings(standard_type="transactions-by-channel"),
    )
    collector = collectors.create_collector(
        None, data_set, name="Export", url=source.answer(body=b"", status=500)
    )
    collectors.run_now(None, collector)
    collectors.run_now(None, collector)
    services.check_freshness()
    assert smtp.subjects == ['Collector "Export" of road-tax/transactions-by-channel is failing']
    text = smtp.text(0)
    assert "(1 failed run). The last run said:\n\nThe server answered 500 Internal Server" in text
    source.answer(body=GOOD_CSV)
    collector.mapping = {"Transactions": "count"}
    collector.save()
    collectors.run_now(None, collector)
    source.answer(body=b"", status=503)
    collectors.run_now(None, collector)
    assert len(smtp.messages) == 2


def test_a_stopped_source_sends_one_email_and_its_return_one_more(
    typed, source, collecting, smtp, settings
):
    """The demo's story: the collector fails, the data set goes stale, the team gets one
    email (which names the failing collector); the source comes back, one more email."""
    settings.PERFPLAT_RETRY_BASE_SECONDS = 30
    collector = collectors.create_collector(
        None,
        typed,
        name="Export",
        url=source.answer(body=GOOD_CSV),
        mapping={"Transactions": "count"},
        interval=60,
    )
    collectors.run_now(None, collector)
    write(typed, T)  # as if that run was at T
    source.answer(body=b"", status=503)
    for seconds in (60, 90, 150, 270, 3500, 3700, 3800, 5000):
        collectors.run_now(None, collector, at(seconds))
        services.check_freshness(at(seconds + 5))
    assert smtp.subjects == ["Data set road-tax/transactions-by-channel is out of date"]
    text = smtp.text(0)
    assert (
        'Its collector "Export" has been failing since 2 March 2026 at 09:01 UTC: '
        "The server answered 503 Service Unavailable"
    ) in text
    source.answer(body=GOOD_CSV)
    collectors.run_now(None, collector, at(5100))
    services.check_freshness(datetime.now(UTC))
    services.check_freshness(datetime.now(UTC) + timedelta(seconds=60))
    assert smtp.subjects == [
        "Data set road-tax/transactions-by-channel is out of date",
        "Data is arriving again for road-tax/transactions-by-channel",
    ]


# the weekly digest


def test_each_organisation_admin_gets_a_weekly_digest_of_what_needs_attention(
    typed, world, source, collecting, mailoutbox
):
    last_written(typed, T)
    collector = collectors.create_collector(
        None, world.other_data_set, name="Health export", url=source.answer(status=500)
    )
    collectors.run_now(None, collector, at(100))
    mailoutbox.clear()
    assert services.send_digests(at(7200)) == 2
    assert services.send_digests(at(7300)) == 0  # the same week: once
    digests = {email.to[0]: email for email in mailoutbox}
    assert sorted(digests) == ["dft-admin@example.gov.uk", "doh-admin@example.gov.uk"]
    transport = digests["dft-admin@example.gov.uk"]
    assert transport.subject == "Weekly summary: 1 data set out of date"
    assert (
        "- road-tax/transactions-by-channel (Tax your vehicle): last written to 2 March 2026 "
        "at 09:00 UTC, expected every hour."
    ) in transport.body
    health = digests["doh-admin@example.gov.uk"]
    assert health.subject == "Weekly summary: 1 collector failing"
    assert '- "Health export" of book-a-jab/transactions: failing since' in health.body
    assert "The server answered 500 Internal Server Error" in health.body


def test_no_digest_when_nothing_needs_attention(world, mailoutbox):
    assert services.send_digests(at(0)) == 0
    assert mailoutbox == []


# sending


def test_a_failed_send_is_retried_with_backoff(typed, smtp, settings):
    settings.PERFPLAT_RETRY_BASE_SECONDS = 30
    last_written(typed, T)
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    services.check_freshness(at(3700))
    message = Message.objects.get()
    assert (message.status, message.attempts, message.next_attempt_at) == (
        "pending",
        1,
        at(3730),
    )
    assert message.error.startswith("ConnectionRefusedError")
    settings.EMAIL_PORT = working_port
    assert services.deliver_pending(at(3729)) == 0
    assert services.deliver_pending(at(3730)) == 1
    message.refresh_from_db()
    assert (message.status, message.sent_at, message.error) == ("sent", at(3730), "")
    assert len(smtp.messages) == 1


def test_a_message_is_given_up_after_its_attempts(typed, settings, monkeypatch):
    from django.core.mail import EmailMessage

    def broken(self, fail_silently=False):
        raise OSError("mail server on fire")

    monkeypatch.setattr(EmailMessage, "send", broken)
    last_written(typed, T)
    services.check_freshness(at(3700))
    for minutes in range(1, 60):
        services.deliver_pending(at(3700 + minutes * 60 * 60))
    message = Message.objects.get()
    assert (message.status, message.attempts, message.error) == (
        "failed",
        5,
        "OSError: mail server on fire",
    )


class NotifyStandIn:
    """A local stand-in for the GOV.UK Notify API: records what is posted to it."""

    def __init__(self):
        self.received = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers["Content-Length"])
                stand_in.received.append(
                    (self.path, self.headers["Authorization"], json.loads(self.rfile.read(length)))
                )
                reply = json.dumps({"id": "d7a1b5c2-0000-4000-8000-000000000000"}).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"


def test_the_notify_backend_sends_each_recipient_through_the_notify_api(
    typed, settings, monkeypatch
):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    notify = NotifyStandIn()
    try:
        settings.EMAIL_BACKEND = "perfplat.notifications.backends.NotifyEmailBackend"
        settings.NOTIFY_API_KEY = (
            "perfplat_test-26785a09-ab16-4eb0-8407-a37497a57506-"
            "3d844edf-8d35-48ac-975b-e847b4f122b0"
        )
        settings.NOTIFY_TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
        settings.NOTIFY_BASE_URL = notify.url
        last_written(typed, T)
        services.check_freshness(at(3700))
    finally:
        notify.server.shutdown()
        notify.server.server_close()
    assert [(path, payload["email_address"]) for path, _, payload in notify.received] == [
        ("/v2/notifications/email", address) for address in TEAM
    ]
    _, authorization, payload = notify.received[0]
    assert authorization.startswith("Bearer ey")
    assert payload["template_id"] == "f33517ff-2a88-4f6e-b855-c550268ce08a"
    assert payload["personalisation"]["subject"] == (
        "Data set road-tax/transactions-by-channel is out of date"
    )
    assert payload["personalisation"]["body"].startswith("Hello Tax your vehicle team,")
    message = Message.objects.get()
    assert (message.status, message.backend) == (
        "sent",
        "perfplat.notifications.backends.NotifyEmailBackend",
    )


def test_the_notify_backend_needs_its_settings(settings):
    from django.core.exceptions import ImproperlyConfigured

    from perfplat.notifications.backends import NotifyEmailBackend

    settings.NOTIFY_API_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        NotifyEmailBackend()


# what people see


def test_people_see_the_emails_sent_to_them(client, typed, world, mailoutbox):
    last_written(typed, T)
    services.check_freshness(at(3700))
    client.force_login(world.editor)
    page = client.get("/manage/notifications").content.decode()
    assert "Data set road-tax/transactions-by-channel is out of date" in page
    assert "No data has reached the data set road-tax/transactions-by-channel" in page
    assert "dft-admin@example.gov.uk, dft-editor@example.gov.uk" in page
    listed = body(client.get("/api/notifications"))
    assert [(m["kind"], m["status"], m["data_set_id"]) for m in listed] == [
        ("stale", "sent", typed.pk)
    ]
    client.force_login(world.other_editor)
    assert (
        "No emails have been sent to you yet."
        in client.get("/manage/notifications").content.decode()
    )
    assert body(client.get("/api/notifications")) == []


def test_the_notifications_page_needs_a_signed_in_person(client, db):
    response = client.get("/manage/notifications")
    assert response.status_code == 302
    assert response["Location"] == "/manage/sign-in?next=/manage/notifications"
