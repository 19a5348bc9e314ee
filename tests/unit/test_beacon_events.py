"""What one beacon request is: its step, origin, and how it is counted (perfplat.beacon.events)."""

import pytest

from perfplat.beacon.events import (
    Route,
    classify,
    is_bot,
    is_prefetch,
    origin,
    request_origin,
    step_from_body,
)

ROUTE = Route(7, frozenset({"start", "details", "done"}), frozenset({"https://www.example.gov.uk"}))
SITE = "https://www.example.gov.uk"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b'{"step": "details"}'),
        # what navigator.sendBeacon sends with a string
        ("text/plain;charset=UTF-8", b'{"step":"details"}'),
        ("application/x-www-form-urlencoded", b"step=details"),
        ("Application/JSON; charset=utf-8", b'{"step": "details", "other": 1}'),
    ],
)
def test_the_step_is_read_from_json_text_or_a_form(content_type, body):
    assert step_from_body(content_type, body) == "details"


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b"not json"),
        ("application/json", b'["details"]'),
        ("application/json", b'{"step": 3}'),
        ("application/json", b'{"steps": "details"}'),
        ("text/plain", b"details"),
        ("application/x-www-form-urlencoded", b"step=a&step=b"),
        ("application/x-www-form-urlencoded", b"\xff\xfe"),
        ("multipart/form-data; boundary=x", b"--x--"),
        ("", b'{"step": "details"}'),
        ("application/json", b'{"step": "' + b"a" * 1100 + b'"}'),
    ],
)
def test_a_body_that_does_not_name_a_step_has_none(content_type, body):
    assert step_from_body(content_type, body) is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://www.example.gov.uk", SITE),
        ("https://WWW.Example.gov.uk/apply/details?x=1#top", SITE),
        ("https://www.example.gov.uk:443/", SITE),
        ("http://127.0.0.1:8001/page.html", "http://127.0.0.1:8001"),
        ("http://localhost:80", "http://localhost"),
        ("https://[::1]:8443/", "https://[::1]:8443"),
        ("null", None),
        ("file:///home/page.html", None),
        ("https://", None),
        ("https://example.org:99999", None),
    ],
)
def test_an_origin_is_scheme_host_and_a_port_other_than_the_default(value, expected):
    assert origin(value) == expected


def test_the_origin_header_comes_before_the_referer():
    assert request_origin("https://other.example", f"{SITE}/apply") == "https://other.example"
    assert request_origin("", f"{SITE}/apply/start?ref=1") == SITE
    assert request_origin("", "") is None


@pytest.mark.parametrize(
    "agent",
    [
        "",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/131.0.0.0",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    ],
)
def test_programs_that_say_they_are_bots_are_bots(agent):
    assert is_bot(agent)


@pytest.mark.parametrize("agent", [FIREFOX, CHROME, IPHONE, "Mozilla/5.0 (Linux; CUBOT X30)"])
def test_browsers_are_not_bots(agent):
    assert not is_bot(agent)


@pytest.mark.parametrize(
    "headers",
    [
        {"sec_purpose": "prefetch"},
        {"sec_purpose": "prefetch;prerender"},
        {"purpose": "prefetch"},
        {"x_moz": "prefetch"},
        {"x_purpose": "preview"},
    ],
)
def test_prefetches_are_recognised_by_their_headers(headers):
    values = {"sec_purpose": "", "purpose": "", "x_moz": "", "x_purpose": ""} | headers
    assert is_prefetch(**values)


def test_a_plain_visit_is_not_a_prefetch():
    assert not is_prefetch("", "", "", "")


def test_a_browser_on_a_listed_origin_at_a_known_step_is_counted():
    assert classify(ROUTE, "details", SITE, False, False) == (7, "details", "counted")


def test_bots_and_prefetches_are_counted_apart_at_their_step():
    assert classify(ROUTE, "start", SITE, True, False) == (7, "start", "bot")
    assert classify(ROUTE, "start", SITE, False, True) == (7, "start", "prefetch")


def test_rejected_events_keep_no_step():
    assert classify(None, "start", SITE, False, False) == (0, "", "unknown-service")
    assert classify(ROUTE, "start", "https://elsewhere.example", False, False) == (
        7,
        "",
        "unlisted-origin",
    )
    assert classify(ROUTE, "start", None, False, False) == (7, "", "unlisted-origin")
    assert classify(ROUTE, "user-12345", SITE, False, False) == (7, "", "unknown-step")
    assert classify(ROUTE, None, SITE, True, False) == (7, "", "unknown-step")
