"""/api/v1/patients: a discharged patient's stays and history stay reachable."""


def upload(client, mrn, room, pressure=12):
    response = client.post("/api/v1/measurements", json={
        "mrn": mrn, "room_number": room, "cpap_pressure": pressure, "breath_rate": 14.0,
        "apnea_count": 0})
    assert response.status_code == 201
    return response.get_json()


def test_a_patient_lists_every_stay_newest_first_with_counts(client):
    first = [upload(client, 1, 12) for _ in range(3)]
    upload(client, 2, 12)                           # turnover ends patient 1's stay
    second = [upload(client, 1, 20) for _ in range(2)]
    patient = client.get("/api/v1/patients/1").get_json()
    assert patient["mrn"] == 1 and patient["name"] is None
    stays = patient["stays"]
    assert [(s["id"], s["room_number"], s["measurement_count"]) for s in stays] == [
        (second[0]["stay_id"], 20, 2), (first[0]["stay_id"], 12, 3)]
    assert stays[0]["ended_at"] is None and stays[1]["ended_at"] is not None
    assert set(stays[0]) == {"id", "room_number", "started_at", "ended_at", "measurement_count"}


def test_a_patient_history_spans_stays_newest_first_and_pages(client):
    ids = [upload(client, 1, 12)["id"] for _ in range(3)]
    upload(client, 2, 12)
    ids += [upload(client, 1, 20)["id"] for _ in range(3)]
    upload(client, 3, 20)                           # patient 1 discharged from both rooms
    seen, cursor = [], None
    while True:
        query = "limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/patients/1/measurements?{query}").get_json()
        seen += page["items"]
        cursor = page["next"]
        if cursor is None:
            break
    assert [m["id"] for m in seen] == ids[::-1]
    assert {m["patient_mrn"] for m in seen} == {1}
    assert [m["room_number"] for m in seen] == [20, 20, 20, 12, 12, 12]


def test_an_unknown_patient_is_a_404(client):
    for path in ("/api/v1/patients/404", "/api/v1/patients/404/measurements",
                 f"/api/v1/patients/{2**64}"):
        response = client.get(path)
        assert response.status_code == 404
        assert set(response.get_json()) == {"code", "message"}
    assert client.get("/api/v1/patients/404").get_json()["message"] == "Patient 404 not found"


def test_patient_routes_reject_unknown_query_parameters(client):
    upload(client, 1, 12)
    response = client.get("/api/v1/patients/1?verbose=1")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"verbose": ["is not a known query parameter"]}
