"""Fixtures for the collector, scheduler and notification tests: a real HTTP server for
collectors to pull from, a real SMTP server for emails to arrive at (aiosmtpd), both on
127.0.0.1 in threads, and a typed data set of the `world`'s road-tax service."""

import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from perfplat.datasets.services import DataSetSettings, create_data_set

GOOD_CSV = (
    b"Week starting,Period,Channel,Transactions\r\n"
    b"2024-01-01,week,digital,120\r\n"
    b"2024-01-01,week,phone,30\r\n"
    b"2024-01-08,week,digital,140\r\n"
)


@dataclass
class Answer:
    """What the source answers on one path. `stream` sends that many bytes without a
    Content-Length (reading must stop at the cap); `drip` sends the body a byte at a time,
    `drip` seconds apart."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/csv"
    delay: float = 0.0
    headers: dict = field(default_factory=dict)
    stream: int = 0
    drip: float = 0.0


class Source:
    """A local HTTP server: `answer(path, ...)` sets what a path returns; `requests` lists the
    paths asked for; `sent` counts the bytes of streamed bodies actually sent."""

    def __init__(self):
        self.answers: dict[str, Answer] = {}
        self.requests: list[str] = []
        self.sent = 0
        source = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                source.requests.append(self.path)
                answer = source.answers.get(self.path)
                if answer is None:
                    self.send_error(404)
                    return
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self._answer(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _answer(self, answer):
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                if answer.stream:
                    self.end_headers()
                    chunk = b"x" * 65536
                    while source.sent < answer.stream:
                        self.wfile.write(chunk)
                        source.sent += len(chunk)
                    return
                if "Content-Length" not in answer.headers:
                    self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                if answer.drip:
                    for byte in answer.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(answer.drip)
                    return
                self.wfile.write(answer.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str = "/data.csv") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str = "/data.csv", body: bytes = b"", **options) -> str:
        self.answers[path] = Answer(body=body, **options)
        return self.url(path)


@pytest.fixture
def source():
    served = Source()
    served.thread.start()
    yield served
    served.server.shutdown()
    served.server.server_close()


@pytest.fixture
def collecting(settings):
    """Collectors may reach this machine (the local source), with short limits."""
    settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE = True
    settings.PERFPLAT_COLLECTOR_TIMEOUT = 2
    settings.PERFPLAT_COLLECTOR_MAX_BYTES = 100_000
    return settings


@pytest.fixture
def typed(world):
    """road-tax's transactions by channel: a typed data set (auto_ids _timestamp, period,
    channel) that expects data every hour."""
    data_set, _ = create_data_set(
        None,
        "transactions-by-channel",
        service=world.service,
        settings=DataSetSettings(
            standard_type="transactions-by-channel", max_age_expected=3600, published=True
        ),
    )
    return data_set


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """What a real SMTP server received: each message with its envelope recipients."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((sorted(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def text(self, index: int) -> str:
        """The body of a message received, with the newlines it was written with."""
        return self.messages[index][1].get_content().replace("\r\n", "\n")

    @property
    def subjects(self) -> list[str]:
        return [message["Subject"] for _, message in self.messages]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1 (aiosmtpd), with Django's SMTP backend sending to it."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 5
    yield mailbox
    controller.stop()
