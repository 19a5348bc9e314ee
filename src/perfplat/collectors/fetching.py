"""Fetching a collector's URL with the standard library's http.client.

- http and https only; no user name or password in the URL.
- Public addresses only: a host that resolves to a private, loopback, link-local or otherwise
  non-public address is refused (server-side request forgery), unless
  settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE is true. The connection goes to the very address
  that was checked, so a second DNS answer cannot swap in another, and every redirect is
  checked again.
- One time limit for the whole exchange (connecting, the headers, the body), enforced by a
  watchdog that shuts the socket down at the deadline, so a server that drips bytes cannot hold
  a worker.
- A size cap: a declared Content-Length above it is refused before reading, and reading stops
  as soon as the body passes it.

Every failure is a FetchFailed whose message says what went wrong in words people can act on.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

from perfplat.errors import InvalidRequest, PerfplatError

MAX_REDIRECTS = 5
USER_AGENT = "perfplat-collector/1 (+https://github.com/perfplat)"
ACCEPT = {
    "csv": "text/csv, text/plain;q=0.9, */*;q=0.5",
    "json": "application/json, */*;q=0.5",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet, */*;q=0.5",
}
_CHUNK = 64 * 1024


class FetchFailed(PerfplatError):
    """The URL could not be fetched; nothing was written. `expected`: a failure of the source,
    not a bug, so it is recorded without a traceback."""

    expected = True


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    content_type: str
    content_encoding: str
    body: bytes


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size / 1024 / 1024:.3g} MB"


def check_url(url: str) -> SplitResult:
    """The parts of a collector's URL; InvalidRequest (on the "url" field) unless it is an
    http or https URL with a host."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidRequest("The URL must start with http:// or https://", field="url")
    if not parts.hostname:
        raise InvalidRequest(
            "The URL must name a host, like https://example.org/data.csv", field="url"
        )
    if parts.username is not None or parts.password is not None:
        raise InvalidRequest("The URL must not contain a user name or password", field="url")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidRequest("The URL's port must be a number from 1 to 65535", field="url")
    if any(character.isspace() for character in url):
        raise InvalidRequest("The URL must not contain spaces", field="url")
    return parts


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition address reaches: IPv4-mapped (::ffff:a.b.c.d),
    IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4 (2002:AABB:CCDD::); None for
    any other address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not private, loopback, link-local,
    shared, reserved or multicast). An IPv6 address that carries an IPv4 address (NAT64, 6to4,
    IPv4-compatible or -mapped) is as public as the IPv4 address it reaches; the local-use
    NAT64 prefix 64:ff9b:1::/48 never is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        if ip in _LOCAL_NAT64:
            return False
        ip = embedded_ipv4(ip) or ip
    return ip.is_global and not ip.is_multicast


def literal_address_problem(url: str, allow_private: bool) -> str | None:
    """Why a URL whose host is an IP address literal (or localhost) may not be fetched, or None.
    Host names are checked when fetched, after resolving them."""
    if allow_private:
        return None
    host = (urlsplit(url.strip()).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return _private_message(host, "127.0.0.1")
    try:
        public = is_public(host)
    except ValueError:
        return None
    return None if public else _private_message(host, host)


def _private_message(host: str, address: str) -> str:
    shown = host if host == address else f"{host} ({address})"
    return (
        f"{shown} is a private or local address: collectors only fetch from addresses on the "
        "public internet"
    )


def resolve(host: str, port: int, allow_private: bool) -> str:
    """The address to connect to for `host`, after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise FetchFailed(f"The host name {host} could not be found ({reason})")
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise FetchFailed(f"The host name {host} could not be found")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise FetchFailed(_private_message(host, address))
    return addresses[0]


class _Watchdog:
    """Shuts a socket down at the deadline, which ends any read blocked on it."""

    def __init__(self, seconds: float):
        self.expired = False
        self.sock = None
        self.timer = threading.Timer(max(seconds, 0), self._expire)
        self.timer.daemon = True

    def _expire(self):
        self.expired = True
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()


def _connection(parts: SplitResult, address: str, timeout: float):
    host = parts.hostname
    if parts.scheme.lower() == "https":
        connection = http.client.HTTPSConnection(
            host, parts.port or 443, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, parts.port or 80, timeout=timeout)

    # http.client connects through this attribute: connect to the address that was checked,
    # while the Host header and TLS certificate check still use the host name.
    def connect(target, timeout=None, source_address=None):
        return socket.create_connection((address, target[1]), timeout, source_address)

    connection._create_connection = connect
    return connection


def _target(parts: SplitResult) -> str:
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def fetch(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    allow_private: bool = False,
    file_format: str = "csv",
) -> Response:
    """GET `url` and return its body, following up to 5 redirects; FetchFailed otherwise."""
    deadline = time.monotonic() + timeout
    with _Watchdog(timeout) as watchdog:
        for hop in range(MAX_REDIRECTS + 1):
            try:
                parts = check_url(url)
            except InvalidRequest as error:
                if not hop:
                    raise
                raise FetchFailed(f"The server redirected to {url}: {error.message}")
            host = parts.hostname
            try:
                response, location = _get(
                    parts, watchdog, deadline, max_bytes, allow_private, file_format
                )
            except FetchFailed:
                raise
            except TimeoutError:
                raise _timed_out(host, timeout)
            except (OSError, http.client.HTTPException) as error:
                if watchdog.expired or time.monotonic() >= deadline:
                    raise _timed_out(host, timeout)
                raise FetchFailed(f"Could not get {url}: {_reason(error)}")
            if location is None:
                return Response(url, *response)
            url = urljoin(url, location)
        raise FetchFailed(f"Too many redirects: gave up after {MAX_REDIRECTS}")


def _timed_out(host: str, timeout: float) -> FetchFailed:
    return FetchFailed(
        f"The server at {host} did not send a complete response within {timeout:g} seconds"
    )


def _reason(error: Exception) -> str:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"its HTTPS certificate is not valid ({error.verify_message})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _get(parts, watchdog, deadline, max_bytes, allow_private, file_format):
    """One request: ((status, content type, content encoding, body), None), or (None,
    location) for a redirect."""
    host = parts.hostname
    address = resolve(
        host, parts.port or (443 if parts.scheme.lower() == "https" else 80), allow_private
    )
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    connection = _connection(parts, address, remaining)
    try:
        connection.connect()
        sock = connection.sock
        watchdog.sock = sock
        connection.request(
            "GET",
            _target(parts),
            headers={
                "User-Agent": USER_AGENT,
                "Accept": ACCEPT.get(file_format, "*/*"),
                "Accept-Encoding": "identity",
            },
        )
        response = connection.getresponse()
        status = response.status
        if status in (301, 302, 303, 307, 308):
            location = response.getheader("Location")
            if not location:
                raise FetchFailed(
                    f"The server answered {status} {response.reason} with no Location"
                )
            return None, location
        if not 200 <= status < 300:
            raise FetchFailed(f"The server answered {status} {response.reason}".rstrip())
        declared = response.getheader("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > max_bytes:
            raise FetchFailed(_too_large(max_bytes))
        chunks = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or watchdog.expired:
                raise TimeoutError
            chunk = response.read(min(_CHUNK, max_bytes + 1 - size))
            if watchdog.expired:
                raise TimeoutError
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FetchFailed(_too_large(max_bytes))
            chunks.append(chunk)
        content_type = response.getheader("Content-Type", "")
        encoding = response.getheader("Content-Encoding", "").strip().lower()
        return (status, content_type, encoding, b"".join(chunks)), None
    finally:
        watchdog.sock = None
        connection.close()


def _too_large(max_bytes: int) -> str:
    return (
        f"The response is larger than the limit of {size_text(max_bytes)}: nothing was read past it"
    )
