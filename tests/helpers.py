"""Helpers for the tests: an API client and response decoding."""

import gzip

import orjson
from django.test import Client


def content(response) -> bytes:
    """The response's body, streamed (CSV reads) or not."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def body(response):
    return orjson.loads(response.content)


def assert_error(response, status, message):
    """The response is the API's JSON error with this status and message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert body(response)["status"] == "error"
    assert body(response)["message"] == message


def call(client, method, path, token=None, payload=None, **headers):
    """A JSON API call with an optional bearer token, JSON body and headers."""
    return ApiClient(client).send(method, path, payload, token, **headers)


class ApiClient:
    """A Django test client that speaks the write and read API."""

    def __init__(self, client: Client):
        self.client = client

    def post(
        self, path, body, token=None, content_type="application/json", gzipped=False, **headers
    ):
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        if gzipped:
            data = gzip.compress(data)
            headers["HTTP_CONTENT_ENCODING"] = "gzip"
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return self.client.generic("POST", path, data, content_type=content_type, **headers)

    def send(self, method, path, body=None, token=None, **headers):
        data = b"" if body is None else orjson.dumps(body)
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return self.client.generic(method, path, data, content_type="application/json", **headers)

    def get(self, path, params=None, token=None, **headers):
        if token is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return self.client.get(path, params or {}, **headers)


# What production sets, for the tests that start `perfplat serve` in a subprocess: without
# them, with DEBUG off, it refuses to start (perfplat.deployment.checks).
SERVER_ENV = {
    "SECRET_KEY": "a-secret-key-for-tests-only-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
}
