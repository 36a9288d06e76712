-- wrk script: POST /add_patient bedside uploads spread over rooms, summary printed as JSON.
-- Usage: wrk -t2 -c16 -d10s --latency -s bench/wrk_post.lua http://127.0.0.1:5099 -- IMAGE_B64_FILE [ROOMS]
-- IMAGE_B64_FILE holds the base64 JPEG (bench.images.flow_b64(); run_wrk_add_patient writes it).
-- Each request picks a random room in 1..ROOMS (default 200); MRN = room*1000+1 so every
-- room keeps one patient and the server appends rather than doing turnover. The name is sent
-- on every upload, as the bedside form keeps it, so the rename check runs each time.

local threads, counter = {}, 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local f = assert(io.open(assert(args[1], "image file argument missing"), "r"))
  local img = f:read("*a"):gsub("%s+", "")
  f:close()
  rooms = tonumber(args[2]) or 200
  statuses = {}
  -- Pre-render each room's full request once per thread: request() is then a table lookup,
  -- so wrk's own CPU stays low on a box it shares with the server.
  reqs = {}
  local headers = { ["Content-Type"] = "application/json" }
  for room = 1, rooms do
    local body = string.format('{"patient_mrn": %d, "room_number": %d, '
      .. '"patient_name": "Bench Patient", '
      .. '"CPAP_pressure": "12", "breath_rate": "14.53", "apnea_count": "1", "flow_image": "%s"}',
      room * 1000 + 1, room, img)
    reqs[room] = wrk.format("POST", "/add_patient", headers, body)
  end
  -- Each thread has its own Lua state; without distinct seeds all threads pick the same rooms.
  math.randomseed(id * 7919 + os.time())
end

function request()
  return reqs[math.random(rooms)]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do merged[code] = (merged[code] or 0) + n end
  end
  local st = {}
  for code, n in pairs(merged) do st[#st + 1] = string.format('"%d": %d', code, n) end
  local e = summary.errors
  -- One prefixed line so run_wrk can find it among wrk's human-readable output.
  io.write(string.format('WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
    .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
    .. '"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}, '
    .. '"status": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), table.concat(st, ", ")))
end
