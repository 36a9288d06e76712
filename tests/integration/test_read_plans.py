"""Read queries keep their cost per room, however many images the database holds."""
import json

from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from cpap_server.services import history, rooms
from cpap_server.services.ingest import Upload, ingest


def _plan(conn, sql: str) -> str:
    return json.dumps(conn.execute(text("EXPLAIN (FORMAT JSON) " + sql)).scalar_one())


def _scans_of(plan, relation) -> list[str]:
    """Node types of every plan node that reads `relation`."""
    stack, found = [plan[0]["Plan"]], []
    while stack:
        node = stack.pop()
        if node.get("Relation Name") == relation:
            found.append(node["Node Type"])
        stack += node.get("Plans", [])
    return found


def test_room_list_and_page_never_scan_every_flow_image(session, engine, clean_db):
    stay = ingest(session, Upload(mrn=1, room_number=1, cpap_pressure=10, breath_rate=12.0,
                                  apnea_count=1)).stay_id
    with engine.begin() as conn:
        # 20,000 earlier measurements of this stay, each with an image row.
        conn.execute(text("""
            WITH m AS (
                INSERT INTO measurements (stay_id, room_number, recorded_at, cpap_pressure,
                                          breath_rate, apnea_count)
                SELECT :stay, 1, now() - g * interval '1 s', 10, 12, 1
                FROM generate_series(1, 20000) g RETURNING id)
            INSERT INTO flow_images (measurement_id, room_number, media_type, size_bytes, sha256,
                                     data)
            SELECT id, 1, 'image/jpeg', 4, sha256('\\xffd8ffd9'::bytea), '\\xffd8ffd9'::bytea
            FROM m"""), {"stay": stay})
        conn.execute(text("ANALYZE"))
        page = history.stay_page_query(stay, history.Window(limit=100)).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        for sql in (str(rooms.ALL_ROOMS), str(page)):
            reads = _scans_of(json.loads(_plan(conn, sql)), "flow_images")
            assert reads and "Seq Scan" not in reads, reads
