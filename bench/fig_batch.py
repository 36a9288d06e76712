"""Figure 7: measurements/s through POST /api/v1/measurements/batch, 1,000 items per request."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from bench import cpu, load
from bench.fig_ingest import cpu_pair, occupy_rooms, vm_hwm_mb
from bench.images import flow_b64
from cpap_server.config import DEFAULT_MAX_BODY_BYTES

from bench.report import Row, failures, latency, median, missing, targeted

PATH = "/api/v1/measurements/batch"
ITEMS, ROOMS = 1_000, 200


def image_items() -> int:
    """How many items with a ~33 kB base64 image fit the default body limit (5 MiB): ~150."""
    one = len(json.dumps({"mrn": 200001, "room_number": 200, "cpap_pressure": 12,
                          "breath_rate": 14.53, "apnea_count": 1, "flow_image": flow_b64()}))
    return min(ITEMS, int(DEFAULT_MAX_BODY_BYTES * 0.98) // (one + 2) // 10 * 10)


def body(images: bool, count: int = ITEMS) -> bytes:
    """count appends spread over the 200 occupied rooms, strict JSON types."""
    items = []
    for i in range(count):
        room = i % ROOMS + 1
        item = {"mrn": room * 1000 + 1, "room_number": room, "cpap_pressure": 12,
                "breath_rate": 14.53, "apnea_count": 1}
        if images:
            item["flow_image"] = flow_b64()
        items.append(item)
    return json.dumps({"items": items}).encode()


def post(base_url: str, data: bytes) -> tuple[int, bytes]:
    """One POST; (status, body) whatever the status."""
    req = urllib.request.Request(base_url + PATH, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def stored(answer: bytes) -> int | None:
    """How many items one answer says were stored (None when its shape is unknown)."""
    try:
        doc = json.loads(answer)
    except ValueError:
        return None
    items = doc.get("items", doc.get("results")) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        return None
    return sum(1 for it in items if isinstance(it, dict) and it.get("status") == "created")


def run(stack, cfg, details) -> list[Row]:
    """Probe the route, check one batch is fully stored, then 2 connections for load_s, per rep."""
    status, _ = post(stack.app_url, b'{"items": []}')
    if status in (404, 405):
        return [missing("7 batch ingest", "route missing"), _memory(stack, details)]
    occupy_rooms(stack.app_url, range(1, ROOMS + 1))  # so every item is an append
    rows = []
    for images in (False, True):
        # With images, the production body limit (not a raised one) decides the batch size.
        count = image_items() if images else ITEMS
        label = f"{count:,} items, " + ("with images" if images else "no images")
        data = body(images, count)
        status, answer = post(stack.app_url, data)
        ok = stored(answer)
        if not 200 <= status < 300:
            rows.append(missing(f"7 batch ingest, {label}", f"HTTP {status}"))
            continue
        runs = []
        for _ in range(cfg.reps):
            with cpu.Meter(stack) as meter:
                res = load.closed_loop(stack.app_url, "POST", PATH, data, connections=2,
                                       duration=cfg.load_s)
            res["measurements_per_s"] = res["rps"] * count
            res["cpu_ms_per_request"] = meter.per_request_ms(res["requests"])
            runs.append(res)
        details["batch_images" if images else "batch"] = {
            "items": count, "runs": runs, "body_bytes": len(data), "first_answer_created": ok}
        note = failures(runs) or ("" if ok in (None, count) else f"stored {ok}/{count}")
        figure = f"7 batch ingest, {label} ({len(data) / 1e6:.2g} MB body)"
        value = median(runs, "measurements_per_s")
        rows.append(Row(figure, value, "meas/s", note) if images
                    else targeted(figure, value, "meas/s", ">= 20000"))
        rows += [Row("  batch latency p50 / p99", latency(runs), "ms", "" if images else note),
                 Row("  CPU per batch: app / postgres", cpu_pair(runs), "ms")]
    rows.append(_memory(stack, details))
    return rows


def _memory(stack, details) -> Row:
    workers = {pid: vm_hwm_mb(pid) for pid in stack.worker_pids()}
    details["memory_end_of_run_mb"] = workers
    peak = max((v for v in workers.values() if v is not None), default=None)
    return Row("8 worker peak RSS at end of run (info)", round(peak, 1) if peak else None, "MB")
