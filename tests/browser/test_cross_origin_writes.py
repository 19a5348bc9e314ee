"""A web page on another origin sends corrections to the write API from the browser (SPEC
section 4: PATCH and DELETE of /data/<group>/<type>/<id>): chromium's CORS preflight must allow
the method and the Authorization and Content-Type headers, or the fetch fails before it is sent.

The page is served by a plain local server (browser.other_origin: another origin, with no
policy of its own) and calls the live server's API.
"""

import pytest

from browser.other_origin import PageServer
from browser.viewports import desktop_only
from perfplat.datasets.models import Record
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.datasets.writes import WriteSource, write_records

pytestmark = [pytest.mark.browser, desktop_only]

SEND = """async ([url, method, token, payload]) => {
    const options = {method, headers: {"Authorization": "Bearer " + token}};
    if (payload !== null) {
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(payload);
    }
    const response = await fetch(url, options);
    return [response.status, await response.json()];
}"""


@pytest.fixture
def stored(transactional_db):
    data_set, token = create_data_set("test-service", "events", settings=DataSetSettings())
    write_records(data_set, [{"_id": "r1", "n": 1}, {"_id": "r2", "n": 2}], WriteSource("api"))
    return data_set, token


@pytest.fixture
def other_site(page):
    with PageServer("<!DOCTYPE html><html lang='en'><title>A service</title></html>") as site:
        page.goto(site.url)
        yield site


def test_a_page_on_another_origin_patches_and_deletes_records(
    page, live_server, stored, other_site
):
    data_set, token = stored
    assert not live_server.url.startswith(other_site.origin)
    base = f"{live_server.url}/data/test-service/events"
    patched = page.evaluate(SEND, [f"{base}/r1", "PATCH", token, {"n": 5}])
    assert patched == [200, {"status": "ok", "record": {"_id": "r1", "n": 5}}]
    deleted = page.evaluate(SEND, [f"{base}/r2", "DELETE", token, None])
    assert deleted == [200, {"status": "ok", "message": "Deleted record r2"}]
    rows = {row.record_id: row.data for row in Record.objects.filter(data_set=data_set)}
    assert rows == {"r1": {"n": 5}}


def test_a_page_on_another_origin_writes_and_empties_a_data_set(
    page, live_server, stored, other_site
):
    data_set, token = stored
    url = f"{live_server.url}/data/test-service/events"
    assert page.evaluate(SEND, [url, "POST", token, [{"_id": "r3", "n": 3}]]) == [
        200,
        {"status": "ok", "count": 1},
    ]
    assert page.evaluate(SEND, [url, "PUT", token, []]) == [
        200,
        {"status": "ok", "message": "test_service_events now contains 0 records"},
    ]
    assert not Record.objects.filter(data_set=data_set).exists()
