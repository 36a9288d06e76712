"""POST /api/v1/measurements/batch over HTTP: per-item answers, limits, nothing good lost."""
import uuid

from tests.images import b64, png


def item(mrn=1, room=1, pressure=10, **extra):
    return {"mrn": mrn, "room_number": room, "cpap_pressure": pressure, "breath_rate": 12.5,
            "apnea_count": 0, **extra}


def test_good_items_are_stored_even_next_to_bad_ones(client, sql):
    key = str(uuid.uuid4())
    retried = item(pressure=6, client_uuid=key, flow_image=b64(png()))
    items = [item(pressure=5), item(pressure=99), "not an object", item(mrn="7"), retried,
             dict(retried)]
    response = client.post("/api/v1/measurements/batch", json={"items": items})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["status"] for r in results] == ["created", "error", "error", "error", "created",
                                              "duplicate"]
    assert results[0]["outcome"] == "created" and results[4]["outcome"] == "appended"
    assert results[1]["errors"] == {"cpap_pressure": ["must be between 4 and 25"]}
    assert results[2]["errors"] == {"item": ["must be a JSON object"]}
    assert results[3]["errors"] == {"mrn": ["must be an integer"]}
    assert results[5]["id"] == results[4]["id"] and "errors" not in results[5]
    assert "id" not in results[1] and "outcome" not in results[1]
    stored = sql("SELECT id, cpap_pressure FROM measurements ORDER BY id")
    assert [tuple(r) for r in stored] == [(results[0]["id"], 5), (results[4]["id"], 6)]


def test_a_batch_over_the_limit_is_refused_naming_it(client, sql):
    response = client.post("/api/v1/measurements/batch", json={"items": [item()] * 1001})
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"items": ["must hold 1 to 1000 items"]}
    assert sql("SELECT count(*) FROM measurements")[0][0] == 0


def test_an_empty_or_missing_item_list_is_a_422(client):
    assert client.post("/api/v1/measurements/batch", json={"items": []}).status_code == 422
    missing = client.post("/api/v1/measurements/batch", json={})
    assert missing.status_code == 422 and "items" in missing.get_json()["errors"]


def test_a_thousand_items_over_many_rooms_are_all_stored_in_order(client, sql):
    items = [item(mrn=100 + i % 50, room=i % 50 + 1, pressure=4 + i % 20) for i in range(1000)]
    results = client.post("/api/v1/measurements/batch", json={"items": items}).get_json()["results"]
    assert {r["status"] for r in results} == {"created"}
    per_room = sql("SELECT room_number, array_agg(cpap_pressure ORDER BY id) FROM measurements "
                   "GROUP BY room_number ORDER BY 1")
    assert len(per_room) == 50
    for room, pressures in per_room:
        assert pressures == [4 + i % 20 for i in range(1000) if i % 50 + 1 == room]


def test_a_null_item_fails_alone(client, sql):
    response = client.post("/api/v1/measurements/batch", json={"items": [None, item()]})
    assert response.status_code == 200
    first, second = response.get_json()["results"]
    assert first == {"index": 0, "status": "error", "errors": {"item": ["must be a JSON object"]}}
    assert second["status"] == "created"
