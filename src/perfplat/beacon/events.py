"""What one beacon request is: which step it reports, from which origin, and whether it is
counted, counted apart (bots, prefetches) or rejected. Plain functions over header values and
the body; nothing here keeps any of them."""

import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import orjson

START, DONE = "start", "done"
# The kinds of count: an event counted, counted apart, or rejected (not counted towards
# anything, and stored with no step: whatever was sent is not kept).
COUNTED, BOT, PREFETCH = "counted", "bot", "prefetch"
UNKNOWN_SERVICE, UNKNOWN_STEP, UNLISTED_ORIGIN = (
    "unknown-service",
    "unknown-step",
    "unlisted-origin",
)
KINDS = (COUNTED, BOT, PREFETCH, UNKNOWN_SERVICE, UNKNOWN_STEP, UNLISTED_ORIGIN)
REJECTED = (UNKNOWN_SERVICE, UNKNOWN_STEP, UNLISTED_ORIGIN)
# Step names travel in URLs (/beacon/<service>/<step>.gif): lower-case letters, digits, - and _.
STEP_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
# An event is a few bytes; anything longer is not one (and is not read).
MAX_BODY_BYTES = 1024
# Programs that say what they are, in a lower-case user agent. Real browsers never match;
# people using an unusual browser are still counted, just apart, so nothing here needs to be
# perfect. (Matched against the lower-cased text: re.IGNORECASE makes this 4 times slower.)
BOT_AGENT = re.compile(
    r"bot[/;_-]|\bbots?\b|crawl|spider|slurp|archiver|facebookexternalhit|embedly|"
    r"preview|lighthouse|pagespeed|pingdom|uptime|monitor|headlesschrome|phantomjs|"
    r"^curl/|^wget/|python-requests|python-urllib|aiohttp|httpx|go-http-client|^java/|"
    r"okhttp|libwww|scrapy|node-fetch|axios/"
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def current_time() -> int:
    """Now, in epoch seconds (tests replace this to count events in a chosen hour)."""
    return int(time.time())


@dataclass(frozen=True)
class Route:
    """What the counting needs to know of a service with a beacon."""

    service_id: int
    steps: frozenset
    origins: frozenset


def step_from_body(content_type: str, body: bytes) -> str | None:
    """The step a POST reports: `{"step": NAME}` as JSON (application/json, or text/plain as
    `navigator.sendBeacon` sends a string) or a form's `step=NAME`; None for anything else."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if len(body) > MAX_BODY_BYTES:
        return None
    if media_type in ("application/json", "text/plain"):
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        step = payload.get("step") if isinstance(payload, dict) else None
    elif media_type == "application/x-www-form-urlencoded":
        try:
            values = parse_qs(body.decode(), max_num_fields=5).get("step", [])
        except (UnicodeDecodeError, ValueError):
            return None
        step = values[0] if len(values) == 1 else None
    else:
        return None
    return step if isinstance(step, str) else None


def origin(value: str) -> str | None:
    """`scheme://host[:port]` of a URL or origin, lower-case, without a default port; None
    unless it is an http or https address."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}:{port}"
    return f"{parts.scheme}://{host}"


def request_origin(origin_header: str, referer: str) -> str | None:
    """Where the event comes from: the Origin header (every POST from a browser has one), else
    the origin of the Referer (an image has no Origin header; the snippet's
    referrerpolicy="origin" makes browsers send the origin and nothing more)."""
    if origin_header:
        return origin(origin_header)
    if referer:
        return origin(referer)
    return None


def is_bot(user_agent: str) -> bool:
    return not user_agent or BOT_AGENT.search(user_agent.lower()) is not None


def is_prefetch(sec_purpose: str, purpose: str, x_moz: str, x_purpose: str) -> bool:
    """A page loaded ahead of a visit (speculation rules, link prefetch, Safari's preview)
    that may never be seen."""
    return (
        "prefetch" in sec_purpose.lower()
        or purpose.lower() in ("prefetch", "preview")
        or x_moz.lower() == "prefetch"
        or x_purpose.lower() == "preview"
    )


def classify(
    route: Route | None, step: str | None, from_origin: str | None, bot: bool, prefetch: bool
) -> tuple[int, str, str]:
    """The (service id, step, kind) an event is counted under. Rejected events keep no step:
    whatever was sent is not stored."""
    if route is None:
        return (0, "", UNKNOWN_SERVICE)
    if from_origin not in route.origins:
        return (route.service_id, "", UNLISTED_ORIGIN)
    if step not in route.steps:
        return (route.service_id, "", UNKNOWN_STEP)
    if bot:
        return (route.service_id, step, BOT)
    if prefetch:
        return (route.service_id, step, PREFETCH)
    return (route.service_id, step, COUNTED)
