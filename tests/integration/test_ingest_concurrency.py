"""Real threads, separate connections, real commits: count rows, accepted == stored."""
import threading
from collections import Counter

from tests.images import b64, jpeg


def upload(mrn, room, pressure="12"):
    return {"patient_mrn": mrn, "room_number": room, "patient_name": f"P{mrn}",
            "CPAP_pressure": pressure, "breath_rate": "14.5", "apnea_count": "1",
            "flow_image": b64(jpeg(256, seed=mrn))}


def run_threads(app, jobs):
    """Run each job (a list of bodies) in its own thread; return every (status, reply, body)."""
    barrier = threading.Barrier(len(jobs))
    results, lock = [], threading.Lock()

    def worker(bodies):
        client = app.test_client()
        barrier.wait()
        for body in bodies:
            response = client.post("/add_patient", json=body)
            with lock:
                results.append((response.status_code, response.get_json(), body))

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_sixteen_threads_creating_the_same_room_make_one_patient_and_keep_every_upload(app, sql):
    results = run_threads(app, [[upload(501, 50)] * 25 for _ in range(16)])
    replies = Counter((status, reply) for status, reply, _ in results)
    assert replies == {(200, "New patient created"): 1, (200, "Patient successfully updated"): 399}
    assert sql("SELECT count(*) FROM patients")[0][0] == 1
    assert sql("SELECT count(*) FROM stays")[0][0] == 1
    assert sql("SELECT count(*) FROM measurements")[0][0] == 400
    assert sql("SELECT count(*) FROM flow_images")[0][0] == 400


def test_eight_patients_racing_for_one_room_lose_no_measurement(app, sql):
    results = run_threads(app, [[upload(600 + i, 60)] * 25 for i in range(8)])
    assert {status for status, _, _ in results} == {200}
    assert sql("SELECT count(*) FROM stays WHERE room_number = 60 AND ended_at IS NULL")[0][0] == 1
    assert sql("SELECT count(*) FROM measurements")[0][0] == 200
    per_mrn = dict(sql("SELECT p.mrn, count(*) FROM measurements m JOIN stays s ON s.id = m.stay_id"
                       " JOIN patients p ON p.id = s.patient_id GROUP BY p.mrn"))
    assert per_mrn == {600 + i: 25 for i in range(8)}


def test_swapping_two_patients_between_two_rooms_concurrently_keeps_the_invariants(app, sql):
    # A goes 1 -> 2 and B goes 2 -> 1, over and over, from four threads at once.
    forward = [upload(701, 1), upload(702, 2), upload(701, 2), upload(702, 1)] * 6
    backward = [upload(702, 2), upload(701, 1), upload(702, 1), upload(701, 2)] * 6
    results = run_threads(app, [forward, backward, forward[::-1], backward[::-1]])
    assert {status for status, _, _ in results} == {200}
    assert sql("SELECT count(*) FROM measurements")[0][0] == len(results)
    per_room = sql("SELECT room_number, count(*) FROM stays WHERE ended_at IS NULL "
                   "GROUP BY room_number HAVING count(*) > 1")
    per_patient = sql("SELECT patient_id, count(*) FROM stays WHERE ended_at IS NULL "
                      "GROUP BY patient_id HAVING count(*) > 1")
    assert per_room == [] and per_patient == []
    # Every measurement sits in a stay of the MRN that sent it, in the room it named.
    misplaced = sql("SELECT count(*) FROM measurements m JOIN stays s ON s.id = m.stay_id "
                    "WHERE s.room_number <> m.room_number")
    assert misplaced[0][0] == 0
