"""The original article's JSON-array /add_patient design (SQLite), re-implemented as a baseline.

Written from reference/seed-article-add-patient.txt and LEGACY-CONTRACT.md, keeping the
original's flaws on purpose: whole-history read-modify-write on every append, a separate
existence check session, and turnover as delete-commit then insert in another transaction.

Run: .venv/bin/python -m bench.seed_design [--sizes 0,1000,10000] [--n 30,10,2] [--reps 3]
"""
import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import datetime

from sqlalchemy import Column, Integer, String, Text, create_engine
from sqlalchemy.orm import declarative_base, sessionmaker

from bench.stats import percentile

Base = declarative_base()
# Bound by configure(); module-level like the original's global Session factory.
Session = sessionmaker()

EXPECTED_KEYS = ["patient_mrn", "room_number", "patient_name",
                 "CPAP_pressure", "breath_rate", "apnea_count", "flow_image"]
EXPECTED_TYPES = [int, int, str, int, float, int, str]


class Patient(Base):
    """One row per room; every measurement column is a JSON array stored as TEXT."""
    __tablename__ = "patients"
    room_number = Column(Integer, primary_key=True)
    patient_mrn = Column(Integer)
    patient_name = Column(String)
    CPAP_pressure = Column(Text)
    breath_rate = Column(Text)
    apnea_count = Column(Text)
    flow_image = Column(Text)
    timestamp = Column(Text)


def configure(db_path):
    """Bind Session to a SQLite file at db_path, creating the table; returns the engine."""
    engine = create_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    Session.configure(bind=engine)
    return engine


def current_time():
    """Server local time in the original's format."""
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def validate_input_data_generic(in_data, expected_keys, expected_types):
    """Return True or the original's first-failing-key error string."""
    if type(in_data) is not dict:
        return "Input is not a dictionary"
    for key, ktype in zip(expected_keys, expected_types):
        if key not in in_data:
            return f"Key {key} is missing from input"
        value = in_data[key]
        if value == "":  # "" skipped the type check in the original
            continue
        if ktype is int:
            if not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
                return f"Key {key} is not an int or numeric string"
        elif ktype is float:
            try:
                float(value)  # only ValueError caught: float([1]) raised, as in the original (500)
            except ValueError:
                return f"Key {key} is not an int or numeric string"
        elif not isinstance(value, ktype):
            return f"Key {key} has the incorrect value type"
    return True


def does_patient_exist_in_db(room_number):
    """Existence check in its own session, closed in finally (the original's pattern)."""
    session = Session()
    try:
        return session.query(Patient).filter_by(room_number=room_number).first() is not None
    finally:
        session.close()


def _cpap_arrays(in_data, date):
    """Single-element JSON arrays for a first recording."""
    return dict(CPAP_pressure=json.dumps([int(in_data["CPAP_pressure"])]),
                breath_rate=json.dumps([float(in_data["breath_rate"])]),
                apnea_count=json.dumps([int(in_data["apnea_count"])]),
                flow_image=json.dumps([str(in_data["flow_image"])]),
                timestamp=json.dumps([date]))


def new_patient_to_db(in_data, date):
    """Insert a room row with name and/or first recording, as the original branched."""
    session = Session()
    try:
        fields = dict(patient_mrn=in_data["patient_mrn"], room_number=in_data["room_number"])
        has_cpap = in_data["CPAP_pressure"] != "" and in_data["breath_rate"] != ""
        if in_data["patient_name"] != "":
            fields["patient_name"] = in_data["patient_name"]
            if has_cpap:
                fields.update(_cpap_arrays(in_data, date))
        else:
            # The original took CPAP data unconditionally here (crashes on "" values).
            fields.update(_cpap_arrays(in_data, date))
        patient = Patient(**fields)
        session.add(patient)
        session.commit()
        return patient
    finally:
        session.close()


def _append(text, value):
    """json.loads + append + json.dumps of a whole column: the O(history) cost being measured."""
    items = json.loads(text) if text else []
    items.append(value)
    return json.dumps(items)


def update_patient(room_number, in_data, date):
    """Turnover (delete-commit, then insert elsewhere) or append to every array."""
    session = Session()
    try:
        x = session.query(Patient).filter_by(room_number=room_number).first()
        if x.patient_mrn != in_data["patient_mrn"]:
            session.delete(x)
            session.commit()  # non-atomic turnover kept deliberately: a crash here loses the room
            return new_patient_to_db(in_data, date)
        if in_data["patient_name"] != "":
            x.patient_name = in_data["patient_name"]
        if in_data["CPAP_pressure"] != "" and in_data["breath_rate"] != "":
            x.CPAP_pressure = _append(x.CPAP_pressure, int(in_data["CPAP_pressure"]))
            x.breath_rate = _append(x.breath_rate, float(in_data["breath_rate"]))
            x.apnea_count = _append(x.apnea_count, int(in_data["apnea_count"]))
            x.flow_image = _append(x.flow_image, str(in_data["flow_image"]))
            x.timestamp = _append(x.timestamp, date)
        session.commit()
        return x
    finally:
        session.close()


def add_patient(in_data):
    """The original driver: validate, check existence, create or update; (answer, status)."""
    validation = validate_input_data_generic(in_data, EXPECTED_KEYS, EXPECTED_TYPES)
    if validation is not True:
        return validation, 400
    room = int(in_data["room_number"])
    date = current_time()
    if not does_patient_exist_in_db(room):
        new_patient_to_db(in_data, date)
        return "New patient created", 200
    update_patient(room, in_data, date)
    return "Patient successfully updated", 200


def prefill(room, mrn, size, image_b64):
    """Write a room whose arrays already hold `size` recordings, bypassing the driver (fast)."""
    # One json.dumps of the image, joined: building 10,000 entries through the driver
    # would itself take hours, which is the flaw under test.
    img = json.dumps(image_b64)
    session = Session()
    try:
        session.query(Patient).filter_by(room_number=room).delete()
        session.add(Patient(
            room_number=room, patient_mrn=mrn, patient_name="Bench Patient",
            CPAP_pressure="[" + ",".join(["12"] * size) + "]",
            breath_rate="[" + ",".join(["14.53"] * size) + "]",
            apnea_count="[" + ",".join(["1"] * size) + "]",
            flow_image="[" + ",".join([img] * size) + "]",
            timestamp="[" + ",".join(['"2024-01-01 00:00:00"'] * size) + "]"))
        session.commit()
    finally:
        session.close()


def upload_body(room, image_b64):
    """A bedside-client upload: ints for MRN/room, widget strings for the rest."""
    return {"patient_mrn": room * 1000 + 1, "room_number": room, "patient_name": "",
            "CPAP_pressure": "12", "breath_rate": "14.53", "apnea_count": "1",
            "flow_image": image_b64}


# Appends per repetition, by history size. Each append at history h rewrites ~h*33 kB of
# base64 (10,000 -> ~330 MB: ~5-8 s per append here, plus ~1.5 s to prefill), so N shrinks
# as h grows to keep the three default sizes x 3 reps within ~40 s. With N=1, p50 = p99 =
# that one append's latency; the median over reps is what is reported. History grows by
# one per append, so the size-0 row really measures histories 0..49.
DEFAULT_N = {0: 50, 1000: 5, 10000: 1}


def _default_n(size):
    """N for a history size: the table above, else scaled ~1/size."""
    return DEFAULT_N.get(size, max(1, min(50, 5000 // max(size, 1))))


def measure_appends(history_sizes=(0, 1000, 10000), n=None, image_b64=None, reps=3, db_dir=None):
    """Time N driver appends per history size; median over reps of appends/s, p50 and p99 (ms).

    n: None (per-size default), an int for all sizes, or a dict size -> N.
    Each repetition prefills a fresh SQLite file so every rep starts at exactly `size`
    recordings (deleting a 330 MB row instead would cost more than the appends).
    """
    if image_b64 is None:
        from bench.images import flow_b64
        image_b64 = flow_b64()
    room = 101
    body = upload_body(room, image_b64)
    results = []
    with tempfile.TemporaryDirectory(dir=db_dir) as tmp:
        for size in history_sizes:
            count = (n.get(size, _default_n(size)) if isinstance(n, dict)
                     else (n or _default_n(size)))
            runs = []
            for rep in range(reps):
                path = os.path.join(tmp, f"seed_{size}_{rep}.sqlite")
                engine = configure(path)
                prefill(room, body["patient_mrn"], size, image_b64)
                lat = []
                start = time.perf_counter()
                for _ in range(count):
                    t0 = time.perf_counter()
                    answer, status = add_patient(body)
                    lat.append(time.perf_counter() - t0)
                    assert status == 200, answer
                runs.append((count / (time.perf_counter() - start),
                             percentile(lat, 50) * 1e3, percentile(lat, 99) * 1e3))
                engine.dispose()
                os.remove(path)  # free the disk (and page cache) before the next rep
            results.append({
                "history": size, "n": count, "reps": reps,
                "appends_per_s": round(statistics.median(r[0] for r in runs), 3),
                "p50_ms": round(statistics.median(r[1] for r in runs), 2),
                "p99_ms": round(statistics.median(r[2] for r in runs), 2),
            })
    return results


def main():
    """CLI: print measure_appends() results as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="0,1000,10000", help="comma-separated history sizes")
    ap.add_argument("--n", default=None, help="appends per rep: one int, or one per size")
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    n = None
    if args.n:
        ns = [int(v) for v in args.n.split(",")]
        n = ns[0] if len(ns) == 1 else dict(zip(sizes, ns))
    t0 = time.perf_counter()
    res = measure_appends(sizes, n=n, reps=args.reps)
    print(json.dumps({"results": res, "elapsed_s": round(time.perf_counter() - t0, 1)}, indent=1))


if __name__ == "__main__":
    main()
