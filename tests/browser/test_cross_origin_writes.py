"""A web page on another origin sends corrections to the write API from the browser (SPEC
section 4: PATCH and DELETE of /data/<group>/<type>/<id>): chromium's CORS preflight must allow
the method and the Authorization and Content-Type headers, or the fetch fails before it is sent.

The page is served from `localhost` and the API is called at `127.0.0.1`: the same live server,
two origins.
"""

import pytest

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


def other_origin(live_server) -> str:
    assert "localhost" in live_server.url
    return live_server.url.replace("localhost", "127.0.0.1")


def test_a_page_on_another_origin_patches_and_deletes_records(page, live_server, stored):
    data_set, token = stored
    page.goto("/_status")  # any page of the first origin
    base = f"{other_origin(live_server)}/data/test-service/events"
    patched = page.evaluate(SEND, [f"{base}/r1", "PATCH", token, {"n": 5}])
    assert patched == [200, {"status": "ok", "record": {"_id": "r1", "n": 5}}]
    deleted = page.evaluate(SEND, [f"{base}/r2", "DELETE", token, None])
    assert deleted == [200, {"status": "ok", "message": "Deleted record r2"}]
    rows = {row.record_id: row.data for row in Record.objects.filter(data_set=data_set)}
    assert rows == {"r1": {"n": 5}}


def test_a_page_on_another_origin_writes_and_empties_a_data_set(page, live_server, stored):
    data_set, token = stored
    page.goto("/_status")
    url = f"{other_origin(live_server)}/data/test-service/events"
    assert page.evaluate(SEND, [url, "POST", token, [{"_id": "r3", "n": 3}]]) == [
        200,
        {"status": "ok", "count": 1},
    ]
    assert page.evaluate(SEND, [url, "PUT", token, []]) == [
        200,
        {"status": "ok", "message": "test_service_events now contains 0 records"},
    ]
    assert not Record.objects.filter(data_set=data_set).exists()
