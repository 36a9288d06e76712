"""The rows fuzz tests start from: generators try small numbers first, so make them real."""

#: Rooms 1..3, each with the patient whose MRN is the room number.
SEED_ROOMS = (1, 2, 3)
#: Two per room; ids restart at 1 because the tables are truncated with RESTART IDENTITY.
SEED_MEASUREMENTS = 2 * len(SEED_ROOMS)


def seed(client, jpeg_b64: str, png_b64: str) -> None:
    """Two uploads per room (a JPEG and a PNG) and a commanded pressure on room 1."""
    for room in SEED_ROOMS:
        for n, image in enumerate((jpeg_b64, png_b64)):
            response = client.post("/api/v1/measurements", json={
                "mrn": room, "room_number": room, "patient_name": f"Seed {room}",
                "cpap_pressure": 10, "breath_rate": 12.5 + n, "apnea_count": n,
                "flow_image": image})
            assert response.status_code == 201, response.get_json()
    command = client.put("/api/v1/rooms/1/cpap-pressure", json={"cpap_pressure": 12})
    assert command.status_code == 200, command.get_json()
