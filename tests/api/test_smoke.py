from helpers import body


def test_a_record_written_can_be_read_back(api, data_set):
    ds, token = data_set
    response = api.post(
        "/data/test-service/events", {"_timestamp": "2024-01-01T00:00:00Z", "n": 1}, token
    )
    assert response.status_code == 200, response.content
    records = body(api.get("/data/test-service/events"))["data"]
    assert [r["n"] for r in records] == [1]
