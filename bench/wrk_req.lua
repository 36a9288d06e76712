-- wrk script: one METHOD over a path template spread over rooms, optional fixed body; JSON summary.
-- Usage: wrk -t1 -c16 -d5s --latency -s bench/wrk_req.lua URL -- METHOD PATH ROOMS [BODY_FILE]
-- PATH may contain {room}, replaced by a random room in 1..ROOMS for each request.

local threads, counter = {}, 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  local method, path, body = args[1] or "GET", args[2] or "/", nil
  rooms = tonumber(args[3]) or 1
  if args[4] then
    local f = assert(io.open(args[4], "rb"))
    body = f:read("*a")
    f:close()
  end
  local headers = body and { ["Content-Type"] = "application/json" } or {}
  statuses = {}
  -- Pre-rendered requests: request() stays a table lookup, wrk's CPU stays low.
  reqs = {}
  for room = 1, rooms do
    reqs[room] = wrk.format(method, (path:gsub("{room}", tostring(room))), headers, body)
  end
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
  io.write(string.format('WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
    .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
    .. '"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}, '
    .. '"status": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), table.concat(st, ", ")))
end
