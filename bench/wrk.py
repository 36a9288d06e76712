"""Run wrk and parse its result (the WRK_JSON line from wrk_post.lua's done(), else --latency text).

Run: .venv/bin/python -m bench.wrk --url http://127.0.0.1:5099 -c 16 -d 5
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile

SCRIPT_POST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk_post.lua")
_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _to_ms(text):
    """'1.23ms' / '850.00us' / '1.02s' -> milliseconds."""
    num, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(num) * _UNITS_MS[unit]


def parse_wrk_output(out):
    """Extract rps, p50_ms, p99_ms (and more when the JSON line is present) from wrk stdout."""
    for line in out.splitlines():
        if line.startswith("WRK_JSON "):
            d = json.loads(line[len("WRK_JSON "):])
            secs = d["duration_us"] / 1e6
            return {"requests": d["requests"], "duration_s": round(secs, 2),
                    "rps": round(d["requests"] / secs, 1),
                    "p50_ms": d["latency_us"]["p50"] / 1e3, "p99_ms": d["latency_us"]["p99"] / 1e3,
                    "p90_ms": d["latency_us"]["p90"] / 1e3, "max_ms": d["latency_us"]["max"] / 1e3,
                    "status": {int(k): v for k, v in d["status"].items()}, "errors": d["errors"]}
    # No script JSON (e.g. a plain GET run): fall back to the --latency text report.
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct, key in (("50", "p50_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        res[key] = _to_ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    return res


def run_wrk(url, script=None, connections=16, duration=10, threads=2, script_args=(), timeout=None,
            request_timeout=10):
    """Run `wrk --latency` against url (optionally with a Lua script) and return the parsed dict."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise FileNotFoundError("wrk not installed (apt-get install -y wrk); use bench.loadgen")
    # wrk's default 2 s request timeout would count slow batch uploads as errors.
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
           f"--timeout={request_timeout}s"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    if script_args:
        cmd += ["--", *map(str, script_args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True,
                          timeout=timeout or duration + 30)
    res = parse_wrk_output(proc.stdout)
    res["cmd"] = " ".join(cmd)
    return res


def run_wrk_add_patient(url, connections=16, duration=10, threads=2, rooms=200, image_b64=None):
    """wrk_post.lua uploads over `rooms` rooms; the base64 image goes to a temp file for it."""
    if image_b64 is None:
        from bench.images import flow_b64
        image_b64 = flow_b64()
    with tempfile.NamedTemporaryFile("w", suffix=".b64") as f:
        f.write(image_b64)
        f.flush()
        return run_wrk(url, SCRIPT_POST, connections, duration, threads, (f.name, rooms))


def main():
    """CLI: print run_wrk_add_patient() (or a plain GET run with --get PATH) as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:5099")
    ap.add_argument("--get", metavar="PATH", help="plain GET of url+PATH instead of uploads")
    ap.add_argument("-c", "--connections", type=int, default=16)
    ap.add_argument("-d", "--duration", type=int, default=5)
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--rooms", type=int, default=200)
    args = ap.parse_args()
    if args.get:
        res = run_wrk(args.url + args.get, None, args.connections, args.duration, args.threads)
    else:
        res = run_wrk_add_patient(args.url, args.connections, args.duration, args.threads,
                                  args.rooms)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
